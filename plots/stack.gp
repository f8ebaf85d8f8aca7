# SPDX-License-Identifier: MIT
# plots/stack.gp: per RTT percentile, how the round trip splits into client stack, network,
# server stack and server app (with --sched a host's stack in its processing, waiting for CPU,
# CPU leaving idle and return parts), in microseconds (left) and as shares (right).
# pingpong-plot writes data_dir/stack.dat (per percentile: the mean of each of the nparts parts
# over the few exchanges whose RTT is nearest it, the percentile, their mean RTT, how many) and
# params.gp, the script run before this one.

if (out_term eq 'svg') {
	set terminal svg size 1200,700 dynamic enhanced font 'DejaVu Sans,13' background '#ffffff'
} else {
	if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
		set terminal pngcairo size 1200,700 enhanced font 'DejaVu Sans,11' background '#ffffff'
	} else {
		set terminal png size 1200,700 enhanced font 'DejaVuSans,11' background '#ffffff'
	}
}
set encoding utf8
set output out_file

file = data_dir.'/stack.dat'
rtt_col = nparts + 2
bar_label(c) = sprintf("%s\n%d exch.", strcol(1), int(column(nparts + 4)))
total(x) = sum [k = 2:nparts + 1] column(k)   # the bar (x unused: a function takes one)
below(i) = sum [k = 2:i] column(k)   # stacked under part i (column i + 1)

# Up to four parts the key fits in the left plot's top left corner. The --sched parts make up to
# ten, taller than the room above the bars: their key goes under both plots, which keep their
# width for many bars, in columns of four in key_order (a column per split host, its parts
# top-down as in the bar, then the others), drawn apart from the bars so the order is free.
key_below = nparts > 4
heading = plot_title."\nRTT split at each percentile: mean of each part over the exchanges whose RTT is nearest it"
if (key_below) {
	set multiplot layout 1, 2 title heading noenhanced font ',13' margins 0.07, 0.985, 0.22, 0.88 spacing 0.08
} else {
	set multiplot layout 1, 2 title heading noenhanced font ',13'
	set bmargin 4.5
}
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border rgb '#ffffff'
set boxwidth 0.6
set grid ytics lc rgb '#e0e0e0'
set border 3 lc rgb '#404040'
set tics nomirror out

set ylabel 'latency (µs)'
set yrange [0:*]
set offsets 0, 0, graph 0.10, 0
if (key_below) {
	set key at screen 0.5, 0.015 center bottom vertical maxrows 4 reverse Left samplen 2.5 width 3
	plot for [i = 1:nparts] file using (column(i + 1)):xtic(bar_label(0)) lc rgb word(part_colors, i) notitle, \
		file using 0:rtt_col:(sprintf('%.1f', column(rtt_col))) with labels offset 0, 1 font ',11' notitle, \
		file using 0:rtt_col with points pt 7 ps 1 lc rgb '#000000' notitle, \
		for [k = 1:nparts] keyentry with boxes lc rgb word(part_colors, int(word(key_order, k))) \
			title word(part_keys, int(word(key_order, k))), \
		keyentry with points pt 7 ps 1 lc rgb '#000000' title 'RTT percentile'
} else {
	set key top left reverse Left invert
	plot for [i = 1:nparts] file using (column(i + 1)):xtic(bar_label(0)) lc rgb word(part_colors, i) title word(part_keys, i), \
		file using 0:rtt_col:(sprintf('%.1f', column(rtt_col))) with labels offset 0, 1 font ',11' notitle, \
		file using 0:rtt_col with points pt 7 ps 1 lc rgb '#000000' title 'RTT percentile'
}

set ylabel 'share of the RTT (%)'
set yrange [0:100]
set offsets 0, 0, 0, 0
unset key
plot for [i = 1:nparts] file using (100 * column(i + 1) / total(0)):xtic(bar_label(0)) lc rgb word(part_colors, i) notitle, \
	for [i = 1:nparts] file using 0:(100 * (below(i) + column(i + 1) / 2) / total(0)):(column(i + 1) / total(0) >= 0.05 ? sprintf('%.0f%%', 100 * column(i + 1) / total(0)) : '') \
		with labels font ',10' tc rgb word(part_label_colors, i) notitle
unset multiplot
unset output
