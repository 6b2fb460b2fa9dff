/* The socket calls: Linux's names, arguments, constants, optlen rules and
 * errno, prefixed dtcp_ and taking the stack first. Descriptors are the
 * stack's own (not kernel file descriptors); they start at 3. */
#ifndef DTCP_SOCKET_H
#define DTCP_SOCKET_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <poll.h>
#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_stack;

/* Linux values, for C libraries whose headers lack them. */
#ifndef SOL_IP
#define SOL_IP 0
#endif
#ifndef SOL_IPV6
#define SOL_IPV6 41
#endif
#ifndef IP_FREEBIND
#define IP_FREEBIND 15
#endif
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef SO_REUSEPORT
#define SO_REUSEPORT 15
#endif

/**
 * socket(2). Supported: AF_INET / AF_INET6, SOCK_STREAM (with SOCK_NONBLOCK,
 * SOCK_CLOEXEC), protocol 0 or IPPROTO_TCP.
 * @return a descriptor, or -1 with errno EAFNOSUPPORT, ESOCKTNOSUPPORT,
 *         EPROTONOSUPPORT, EINVAL (unknown flags), EMFILE or ENOBUFS.
 */
int dtcp_socket(struct dtcp_stack *st, int domain, int type, int protocol);

/**
 * bind(2), with the kernel's conflict rules and bind(0) search.
 * @return 0, or -1 with errno EBADF, EINVAL, EAFNOSUPPORT, EADDRNOTAVAIL,
 *         EACCES, EADDRINUSE, EFAULT or ENOBUFS.
 */
int dtcp_bind(struct dtcp_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen);

/**
 * listen(2). A socket without a port (unbound, or bound with
 * IP_BIND_ADDRESS_NO_PORT) runs the bind(0) search.
 * @return 0, or -1 with errno EBADF, EINVAL, EADDRINUSE or ENOBUFS.
 */
int dtcp_listen(struct dtcp_stack *st, int fd, int backlog);

/** getsockname(2). -1 with EBADF, EFAULT or EINVAL (negative *addrlen). */
int dtcp_getsockname(struct dtcp_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen);

/**
 * setsockopt(2). SOL_SOCKET: SO_REUSEADDR, SO_REUSEPORT. SOL_IP (also on
 * AF_INET6 sockets): IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE,
 * IP_FREEBIND, IP_TRANSPARENT. SOL_IPV6: IPV6_V6ONLY, IPV6_MTU.
 * @return 0, or -1 with errno EBADF, EINVAL, EFAULT, EPERM or ENOPROTOOPT
 *         (an option dtcp does not implement: never a silent success).
 */
int dtcp_setsockopt(struct dtcp_stack *st, int fd, int level, int optname,
                    const void *optval, socklen_t optlen);

/**
 * getsockopt(2): the options above plus SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
 * SO_ERROR, SO_ACCEPTCONN.
 * @return 0, or -1 with errno EBADF, EINVAL, EFAULT or ENOPROTOOPT.
 */
int dtcp_getsockopt(struct dtcp_stack *st, int fd, int level, int optname,
                    void *optval, socklen_t *optlen);

/**
 * connect(2). A blocking socket drives the stack's poll loop until the
 * handshake ends; a non-blocking one returns EINPROGRESS and reports the
 * outcome through SO_ERROR. connect(AF_UNSPEC) disconnects.
 * @return 0, or -1 with errno EBADF, EINVAL, EAFNOSUPPORT, EISCONN, EALREADY,
 *         EINPROGRESS, EADDRNOTAVAIL, ENETUNREACH, ECONNREFUSED, ETIMEDOUT,
 *         ECONNRESET or ENOBUFS.
 */
int dtcp_connect(struct dtcp_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen);

/**
 * accept4(2) with SOCK_NONBLOCK / SOCK_CLOEXEC.
 * @return a descriptor, or -1 with errno EBADF, EINVAL (not listening or bad
 *         flags), EAGAIN (non-blocking, nothing queued), EMFILE or EFAULT.
 */
int dtcp_accept4(struct dtcp_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/**
 * send(2). Flags: MSG_DONTWAIT, MSG_NOSIGNAL (dtcp never raises SIGPIPE),
 * MSG_MORE.
 * @return bytes queued, or -1 with errno EBADF, EPIPE, ENOTCONN, EAGAIN,
 *         ECONNRESET (or a pending error) or ENOBUFS.
 */
ssize_t dtcp_send(struct dtcp_stack *st, int fd, const void *buf, size_t len, int flags);

/**
 * sendmsg(2): send() over msg_iov (gathered in order). As on a Linux TCP
 * socket, msg_name and ancillary data are not read. Flags as send(), plus
 * MSG_MORE (a short final segment waits for more, as TCP_CORK would).
 * @return bytes queued, or -1 with send()'s errno, EFAULT (msg or an
 *         iov_base NULL), EMSGSIZE (more than 1024 iovecs), EINVAL (an
 *         iov_len above SSIZE_MAX) or EOPNOTSUPP (MSG_OOB: no urgent data).
 */
ssize_t dtcp_sendmsg(struct dtcp_stack *st, int fd, const struct msghdr *msg, int flags);

/**
 * recv(2). Flags: MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL (a blocking call
 * returns only with len bytes, or less at the end of the stream, on an
 * error or when SO_RCVTIMEO runs out), MSG_TRUNC (the bytes are dropped,
 * not copied, as Linux does on TCP).
 * @return bytes read, 0 at the end of the stream, or -1 with errno EBADF,
 *         ENOTCONN, EAGAIN, EFAULT, EINVAL (MSG_OOB: no urgent data),
 *         ECONNRESET (or a pending error).
 */
ssize_t dtcp_recv(struct dtcp_stack *st, int fd, void *buf, size_t len, int flags);

/**
 * recvmsg(2): recv() scattered over msg_iov. On return msg_namelen and
 * msg_controllen are 0 and msg_flags 0, as a Linux TCP socket leaves them.
 * @return as recv(), plus sendmsg()'s iovec errors.
 */
ssize_t dtcp_recvmsg(struct dtcp_stack *st, int fd, struct msghdr *msg, int flags);

/**
 * shutdown(2): SHUT_WR sends a FIN after the queued data; SHUT_RD makes
 * recv() return 0 once the queue is empty.
 * @return 0, or -1 with errno EBADF, EINVAL or ENOTCONN.
 */
int dtcp_shutdown(struct dtcp_stack *st, int fd, int how);

/**
 * poll(2) over dtcp sockets; waiting drives the stack's poll loop.
 * timeout in ms, -1 forever. @return ready count, or -1 with EFAULT/EINVAL.
 */
int dtcp_poll(struct dtcp_stack *st, struct pollfd *fds, nfds_t nfds, int timeout);

/** epoll_create1(2) (EPOLL_CLOEXEC). -1 with EINVAL, EMFILE or ENOMEM. */
int dtcp_epoll_create1(struct dtcp_stack *st, int flags);

/**
 * epoll_ctl(2): EPOLL_CTL_ADD / MOD / DEL; EPOLLIN, EPOLLOUT, EPOLLRDHUP,
 * EPOLLET, EPOLLONESHOT. -1 with EBADF, EINVAL, EEXIST, ENOENT, EFAULT, ENOMEM.
 */
int dtcp_epoll_ctl(struct dtcp_stack *st, int epfd, int op, int fd, struct epoll_event *event);

/**
 * epoll_wait(2), level- or edge-triggered; costs the ready sockets only.
 * @return events written, or -1 with EBADF, EINVAL or EFAULT.
 */
int dtcp_epoll_wait(struct dtcp_stack *st, int epfd, struct epoll_event *events, int maxevents, int timeout);

/** getpeername(2). -1 with EBADF, ENOTCONN, EINVAL or EFAULT. */
int dtcp_getpeername(struct dtcp_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen);

/** fcntl(2) F_GETFL / F_SETFL (O_NONBLOCK). -1 with EBADF or EINVAL. */
int dtcp_fcntl(struct dtcp_stack *st, int fd, int cmd, int arg);

/**
 * close(2). An established connection closes in order (FIN, then TIME_WAIT
 * on this side if it closed first), unread received data turns it into a
 * reset; the stack keeps what it needs after the descriptor is gone.
 * -1 with EBADF.
 */
int dtcp_close(struct dtcp_stack *st, int fd);

#ifdef __cplusplus
}
#endif
#endif
