/* main.c: the host example's transport: a TCP server on 127.0.0.1 standing in
 * for a UART. One client at a time; a new connection replaces the old one and
 * resets the half-received frame; device state survives, as on a board.
 *
 *   host_example PORT      prints "listening on 127.0.0.1:PORT" when ready
 *
 * Exits when its parent (the test harness) goes away. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

static int s_client = -1;

static void write_socket(const uint8_t *data, size_t len)
{
    while (len > 0u && s_client >= 0) {
        ssize_t n = send(s_client, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: host_example PORT\n");
        return 2;
    }
    static hil_device_t dev;
    example_device_init(&dev, write_socket);
    const pid_t parent = getppid();

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1) != 0) {
        fprintf(stderr, "host_example: cannot listen on port %s: %s\n", argv[1], strerror(errno));
        return 3;
    }
    printf("listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);

    for (;;) {
        if (getppid() != parent)
            return 0;                    /* the harness that started us is gone */
        struct pollfd fds[2] = {{lfd, POLLIN, 0}, {s_client, POLLIN, 0}};
        if (poll(fds, s_client >= 0 ? 2 : 1, 500) <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            int c = accept(lfd, NULL, NULL);
            if (c >= 0) {
                if (s_client >= 0)
                    close(s_client);
                s_client = c;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                hil_device_reset_link(&dev);
            }
            continue;
        }
        if (s_client >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[4096];
            ssize_t n = recv(s_client, buf, sizeof buf, 0);
            if (n <= 0) {
                close(s_client);
                s_client = -1;
                continue;
            }
            hil_device_feed(&dev, buf, (size_t)n);   /* the whole device side of the protocol */
        }
    }
}
