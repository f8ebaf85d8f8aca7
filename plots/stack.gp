# SPDX-License-Identifier: MIT
# plots/stack.gp: per RTT percentile, how the round trip splits into client stack, network,
# server stack and server app, in microseconds (left) and as shares (right). pingpong-plot
# writes data_dir/stack.dat (per percentile: the mean parts of the few exchanges whose RTT is
# nearest it, how many, the percentile) and params.gp, the script run before this one.

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
bar_label(c) = sprintf("%s\n%d exch.", strcol(1), int(column(8)))
total = '($2 + $3 + $4 + $5)'
below(i) = (i > 1 ? $2 : 0) + (i > 2 ? $3 : 0) + (i > 3 ? $4 : 0)   # stacked under part i

set multiplot layout 1, 2 title plot_title."\nRTT split at each percentile: mean of each part over the exchanges whose RTT is nearest it" noenhanced font ',13'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border rgb '#ffffff'
set boxwidth 0.6
set grid ytics lc rgb '#e0e0e0'
set border 3 lc rgb '#404040'
set tics nomirror out
set bmargin 4.5

set ylabel 'latency (µs)'
set yrange [0:*]
set offsets 0, 0, graph 0.10, 0
set key top left reverse Left invert
plot for [i = 1:4] file using (column(i + 1)):xtic(bar_label(0)) lc rgb word(part_colors, i) title word(part_keys, i), \
	file using 0:6:(sprintf('%.1f', $6)) with labels offset 0, 1 font ',11' notitle, \
	file using 0:6 with points pt 7 ps 1 lc rgb '#000000' title 'RTT percentile'

set ylabel 'share of the RTT (%)'
set yrange [0:100]
set offsets 0, 0, 0, 0
unset key
plot for [i = 1:4] file using (100 * column(i + 1) / @total):xtic(bar_label(0)) lc rgb word(part_colors, i) notitle, \
	for [i = 1:4] file using 0:(100 * (below(i) + column(i + 1) / 2) / @total):(column(i + 1) / @total >= 0.05 ? sprintf('%.0f%%', 100 * column(i + 1) / @total) : '') \
		with labels font ',10' tc rgb '#ffffff' notitle
unset multiplot
unset output
