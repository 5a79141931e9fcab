/* tcpinfo.c - see tcpinfo.h. Its own file because glibc's struct tcp_info
 * lacks tcpi_bytes_received and <linux/tcp.h>, which has it, cannot be
 * included together with <netinet/tcp.h> (which uv.h pulls in). */
#include "tcpinfo.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

uint64_t tcpinfo_bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return 0;
    return ti.tcpi_bytes_received;
}
