/* tcpinfo.h - what the kernel counts about a TCP socket. */
#ifndef WOD_TCPINFO_H
#define WOD_TCPINFO_H

#include <stdint.h>

/* Bytes the peer has sent on fd so far (TCP_INFO tcpi_bytes_received,
 * Linux 4.1+); 0 if unknown. */
uint64_t tcpinfo_bytes_received(int fd);

#endif
