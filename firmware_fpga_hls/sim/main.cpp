/* main.cpp: the emulated FPGA board `fpga-sim`.
 *
 *   fpga_sim --port PORT [--host 127.0.0.1]    serve the wire protocol on a TCP socket
 *   fpga_sim --list                            print the models and their modelled cycles
 *
 * The HLS top functions (compiled from the same kernel sources Vitis
 * synthesises) run behind the device library's request dispatcher
 * (hil/device_lib/src/hil_device.c, the same source the STM32 firmware links). One client at a time; a
 * new connection replaces the current one (a host that reconnects wins), and
 * a closed connection is followed by the next accept. Device state (loaded
 * input, last results) survives reconnects, as on a real board. The program
 * exits when its parent process goes away, so an emulator is never left
 * behind by a host that was killed. Counts are MODELLED cycles at the design
 * clock (hil/targets/hls/cycles.py), never measured ones.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "hil_hls/model.h"

#ifndef HIL_DESIGN_CLOCK_HZ
#define HIL_DESIGN_CLOCK_HZ 100000000u
#endif

namespace {

class SocketOutput : public hil::sim::Output {
public:
    explicit SocketOutput(int fd) : fd_(fd), failed_(false) {}
    void write(const uint8_t *data, size_t len)
    {
        while (len > 0 && !failed_) {
            ssize_t n = send(fd_, data, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                failed_ = true;
                return;
            }
            data += n;
            len -= (size_t)n;
        }
    }
    bool failed() const { return failed_; }

private:
    int fd_;
    bool failed_;
};

int list_models()
{
    printf("fpga-sim: %d model(s), modelled cycles at %u Hz (hil/targets/hls/cycles.py; not measured)\n",
           hil::model_count(), (unsigned)HIL_DESIGN_CLOCK_HZ);
    for (int i = 0; i < hil::model_count(); i++) {
        const hil::ModelDesc *m = hil::model(i);
        printf("%d %s %s total=%llu interval=%u load=%u\n", i, m->name, m->qmodel_hash,
               (unsigned long long)m->total_cycles, (unsigned)m->interval, (unsigned)m->load_cycles);
        for (int k = 0; k < m->layer_count; k++) {
            const hil::LayerDesc &L = m->layers[k];
            printf("  %-12s %-30s cycles=%u latency=%u trips=%u macs=%u\n", L.name, L.kernel, (unsigned)L.cycles,
                   (unsigned)L.latency, (unsigned)L.trips, (unsigned)L.macs);
        }
    }
    return 0;
}

int usage()
{
    fprintf(stderr, "usage: fpga_sim --port PORT [--host 127.0.0.1] | --list\n");
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            return list_models();
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*end != '\0' || port < 0 || port > 65535) {
                return usage();
            }
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else {
            return usage();
        }
    }
    if (port < 0) {
        return usage();
    }
    signal(SIGPIPE, SIG_IGN);
    const pid_t parent = getppid();

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "fpga-sim: bad host address %s\n", host);
        return 2;
    }
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4) != 0) {
        fprintf(stderr, "fpga-sim: cannot listen on %s:%ld: %s\n", host, port, strerror(errno));
        return 3;
    }
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    printf("fpga-sim listening on %s:%u (%d models, modelled cycles at %u Hz)\n", host,
           (unsigned)ntohs(addr.sin_port), hil::model_count(), (unsigned)HIL_DESIGN_CLOCK_HZ);
    fflush(stdout);

    hil::sim::BoardInfo info = {"fpga-sim", HIL_DESIGN_CLOCK_HZ};
    hil::sim::Device device(info);
    int cfd = -1;
    uint8_t buf[4096];
    for (;;) {
        if (getppid() != parent) {
            break; /* the host that started us is gone */
        }
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(lfd, &rd);
        int maxfd = lfd;
        if (cfd >= 0) {
            FD_SET(cfd, &rd);
            maxfd = cfd > lfd ? cfd : lfd;
        }
        struct timeval tv = {0, 500000};
        int r = select(maxfd + 1, &rd, 0, 0, &tv);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("fpga-sim: select");
            break;
        }
        if (FD_ISSET(lfd, &rd)) {
            int nfd = accept(lfd, 0, 0);
            if (nfd >= 0) {
                if (cfd >= 0) {
                    close(cfd); /* one client at a time: the newest wins */
                }
                cfd = nfd;
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                device.reset_link();
            }
            continue;
        }
        if (cfd >= 0 && FD_ISSET(cfd, &rd)) {
            ssize_t n = recv(cfd, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                close(cfd); /* host disconnected: wait for the next one */
                cfd = -1;
                continue;
            }
            SocketOutput out(cfd);
            device.feed(buf, (size_t)n, out);
            if (out.failed()) {
                close(cfd);
                cfd = -1;
            }
        }
    }
    if (cfd >= 0) {
        close(cfd);
    }
    close(lfd);
    return 0;
}
