"""HLS target: generated C++ model code, the design description, modelled cycles, csynth calibration, the fpga-sim build."""
