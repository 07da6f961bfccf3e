# Vitis HLS: C synthesis and IP export of one generated model top.
#
#   python -m hil.targets.hls.build kws_dscnn_fpga            # generates build/models/kws_dscnn_fpga/
#   cd firmware_fpga_hls
#   vitis_hls -f vitis/csynth.tcl -tclargs kws_dscnn_fpga [part] [clock_ns] [axi]
#
# part defaults to the Arty A7-35T (xc7a35ticsg324-1L), the clock to 10 ns
# (100 MHz, the clock the cycle model assumes). With "axi" as 4th argument the
# top gets an AXI4-Lite control port and BRAM data ports for a MicroBlaze(-V)
# system (docs/fpga.md); without, it keeps the ap_memory ports and
# ap_ctrl_chain of the source. Results: hls_<model>/solution1/syn/report/
# (calibrate the cycle model from it: python -m hil.targets.hls.cycles MODEL --csynth
# hls_<model>/solution1/syn/report --write-calibration <model>.cal.json) and
# the IP in hls_<model>/solution1/impl/ip/.
#
# Written from the Vitis HLS Tcl command reference; no Vitis was available
# where this project was built, so it has not been run.

set model  [lindex $argv 0]
set part   [expr {[llength $argv] > 1 ? [lindex $argv 1] : "xc7a35ticsg324-1L"}]
set clock  [expr {[llength $argv] > 2 ? [lindex $argv 2] : 10}]
set axi    [expr {[llength $argv] > 3 && [lindex $argv 3] eq "axi"}]
if {$model eq ""} {
    puts "usage: vitis_hls -f vitis/csynth.tcl -tclargs MODEL \[part\] \[clock_ns\] \[axi\]"
    exit 1
}

set root  [file normalize [file join [file dirname [info script]] ..]]
set gen   [file join $root build models $model]
if {![file exists [file join $gen ${model}_top.cpp]]} {
    puts "no generated code in $gen: run `python -m hil.targets.hls.build $model` first"
    exit 1
}
set cflags "-std=c++14 -I[file join $root include] -I$gen"

open_project -reset hls_$model
set_top ${model}_top
add_files [file join $gen ${model}_top.cpp] -cflags $cflags
add_files [file join $gen ${model}_tables.cpp] -cflags $cflags
open_solution -reset solution1 -flow_target vivado
set_part $part
create_clock -period $clock -name default

if {$axi} {
    set_directive_interface -mode s_axilite ${model}_top return
    set_directive_interface -mode bram ${model}_top in
    set_directive_interface -mode bram ${model}_top out
}

csynth_design
export_design -format ip_catalog -rtl verilog
exit
