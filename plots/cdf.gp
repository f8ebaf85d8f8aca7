# SPDX-License-Identifier: MIT
# plots/cdf.gp: one latency CDF per component, drawn from the quantile table pingpong-plot
# writes (data_dir/cdf.dat, marks.dat); its parameters come from data_dir/params.gp, the
# script given before this one: gnuplot params.gp cdf.gp.
# y is "nines", -log10(1 - p): p50, p90, p99, p99.9 sit evenly spaced, so the tail is as
# readable as the body; a curve ends at the top with its maximum.

if (out_term eq 'svg') {
	set terminal svg size 1200,750 dynamic enhanced font 'DejaVu Sans,13' background '#ffffff'
} else {
	if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
		set terminal pngcairo size 1200,750 enhanced font 'DejaVu Sans,11' background '#ffffff'
	} else {
		set terminal png size 1200,750 enhanced font 'DejaVuSans,11' background '#ffffff'
	}
}
set encoding utf8
set output out_file

set title plot_title noenhanced font ',14'
set xlabel 'latency (µs)'
set ylabel 'exchanges at or below (%)'
set yrange [0:ytop]
eval 'set ytics ' . ytics_spec
set mytics 1
set grid xtics ytics lc rgb '#e0e0e0' lw 1 dt 1
set border 3 lc rgb '#404040'
set tics nomirror out
if (logx) {
	set logscale x 10
	set format x '%g'
}
set xrange [xmin:xmax]
set key outside right top box reverse Left samplen 3 spacing 1.3
if (strlen(x_note) > 0) {
	set label 1 x_note at graph 0.99, graph 0.02 right noenhanced font ',10' tc rgb '#606060'
}
do for [i = 1:words(pct_y)] {
	y = word(pct_y, i) + 0.0
	set arrow from graph 0, first y to graph 1, first y nohead dt 2 lw 1 lc rgb '#a0a0a0' back
}

plot for [i = 1:ncomp] data_dir.'/cdf.dat' index (i - 1) using 1:2 with lines \
		lw (word(names, i) eq 'rtt' ? 3 : 2) lc rgb word(colors, i) title word(keys, i), \
	for [i = 1:ncomp] data_dir.'/marks.dat' index (i - 1) using 1:2 with points \
		pt 7 ps 1.1 lc rgb word(colors, i) notitle
unset output
