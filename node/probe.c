/* probe.c — one TCP connect of the agent's own, to say why the hub
 * cannot be reached. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
node_probe_start(const char *endpoint, char *why, size_t cap)
{
    struct addrinfo hints, *ai = NULL;
    char host[256], *port;
    size_t len;
    int fd;

    why[0] = '\0';
    if (strncmp(endpoint, "tcp://", 6) != 0 ||
        strlen(endpoint + 6) >= sizeof(host))
        return -1;
    snprintf(host, sizeof(host), "%s", endpoint + 6);
    if ((port = strrchr(host, ':')) == NULL)
        return -1;
    *port++ = '\0';
    len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        memmove(host, host + 1, len - 2);
        host[len - 2] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
        return -1; /* a name: resolving it could block the loop */
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
        errno != EINPROGRESS) {
        snprintf(why, cap, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

void
node_probe_result(int fd, char *why, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    socklen_t sl = sizeof(int);
    int e = 0;

    if (poll(&p, 1, 0) <= 0)
        snprintf(why, cap,
                 "no answer to a TCP connect (host down, or a firewall "
                 "drops it)");
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || e != 0)
        snprintf(why, cap, "%s", strerror(e != 0 ? e : errno));
    else
        snprintf(why, cap, "TCP connects");
    close(fd);
}
