/* dispatcher.h: the device side of the hil wire protocol for HLS models.
 *
 * Portable C++ (no OS calls, no exceptions): bytes in -> frames
 * (hil_frame.c) -> requests -> responses out. The emulated board (main.cpp)
 * feeds it from a TCP socket; a soft CPU next to the HLS IP on a real FPGA
 * would feed it from the UART and replace ModelDesc::run with a driver that
 * starts the IP (docs/fpga.md). Semantics (checks in order, error codes,
 * LOAD_INPUT / INFER / READ_TENSOR rules) are those of docs/protocol.md and
 * hil/boards/sim.py.
 */
#ifndef HIL_SIM_DISPATCHER_H
#define HIL_SIM_DISPATCHER_H

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "hil_frame.h"
#include "hil_hls/model.h"

namespace hil {
namespace sim {

/* Where response bytes go (a socket, a UART). */
class Output {
public:
    virtual ~Output() {}
    virtual void write(const uint8_t *data, size_t len) = 0;
};

struct BoardInfo {
    const char *board;     /* INFO_RSP.board */
    uint32_t clock_hz;     /* design clock of the modelled cycles */
};

class Dispatcher {
public:
    explicit Dispatcher(const BoardInfo &info);

    /* A new host connection: forget any half frame (device state is kept, as on a real board). */
    void reset_link();

    /* Bytes from the host; every complete request gets exactly one response. */
    void feed(const uint8_t *data, size_t len, Output &out);

    /* Frames answered so far (requests and undecodable chunks). */
    uint32_t answered() const { return answered_; }

private:
    struct Result {
        std::vector<uint8_t> bytes;
        uint8_t dtype;
        bool present;
    };

    void handle(const hil_frame_t &f, Output &out);
    void send(uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len, Output &out);
    void send_error(uint16_t seq, uint8_t code, uint8_t request_type, uint32_t detail, Output &out);

    /* Each returns 0 and fills rsp/len, or an error code with *detail. */
    int on_ping(uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int on_info(uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int on_model_info(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int on_layer_info(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int on_load_input(const uint8_t *p, uint16_t plen, uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int on_infer(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int on_read_tensor(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail);
    int run_once(const ModelDesc *m, bool capture, uint32_t *detail);

    BoardInfo info_;
    hil_frame_rx_t rx_;
    uint8_t tx_[HIL_FRAME_MAX_WIRE];
    uint32_t answered_;

    std::vector<int8_t> input_;
    int input_model_;
    uint32_t filled_;

    int result_model_;                  /* -1: no INFER since boot or since a new input */
    Result output_, layer_counts_;
    std::vector<Result> layers_;
    std::vector<int32_t> out_values_;
    std::vector<std::vector<int32_t> > captured_;
    std::vector<uint64_t> trips_;
};

}  // namespace sim
}  // namespace hil

#endif /* HIL_SIM_DISPATCHER_H */
