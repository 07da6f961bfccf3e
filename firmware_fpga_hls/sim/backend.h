/* backend.h: the fpga-sim backend of the device library (hil/device_lib).
 *
 * The HLS top functions (compiled from the same kernel sources Vitis
 * synthesises) behind hil_device.c, the one request dispatcher every target
 * links. Counts are MODELLED cycles at the design clock (hil/hls_cycles.py),
 * taken from the generated ModelDesc. A soft CPU next to the HLS IP on a real
 * FPGA would keep this shape and replace ModelDesc::run with a driver that
 * starts the IP (docs/fpga.md).
 */
#ifndef HIL_SIM_BACKEND_H
#define HIL_SIM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "hil_device.h"

namespace hil {
namespace sim {

/* Where response bytes go (a socket). */
class Output {
public:
    virtual ~Output() {}
    virtual void write(const uint8_t *data, size_t len) = 0;
};

struct BoardInfo {
    const char *board;     /* INFO_RSP.board */
    uint32_t clock_hz;     /* design clock of the modelled cycles */
};

/* One emulated board: the device library's state plus this backend. */
class Device {
public:
    explicit Device(const BoardInfo &info);
    ~Device();

    /* A new host connection: forget any half frame (device state is kept, as on a real board). */
    void reset_link();

    /* Bytes from the host; every complete request gets exactly one response, written to out. */
    void feed(const uint8_t *data, size_t len, Output &out);

private:
    Device(const Device &);
    Device &operator=(const Device &);
    struct State;
    State *s_;
};

}  // namespace sim
}  // namespace hil

#endif /* HIL_SIM_BACKEND_H */
