/* IP_BIND_ADDRESS_NO_PORT in a few lines: bind() records only the address,
 * and the port is left for connect() to choose. Built against the public
 * API only (pkg-config dtcp). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <dtcp/dtcp.h>

int main(void)
{
	struct dtcp_stack *st = dtcp_stack_new();
	struct sockaddr_in src = { .sin_family = AF_INET }, got;
	socklen_t len = sizeof(got);
	int one = 1, fd, ret = 1;

	if (!st) {
		perror("dtcp_stack_new");
		return 1;
	}
	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = dtcp_socket(st, AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	    dtcp_bind(st, fd, (struct sockaddr *)&src, sizeof(src)) ||
	    dtcp_getsockname(st, fd, (struct sockaddr *)&got, &len)) {
		perror("dtcp");
		goto out;
	}
	printf("bound with IP_BIND_ADDRESS_NO_PORT: %s:%u\n", inet_ntoa(got.sin_addr), ntohs(got.sin_port));
	ret = got.sin_port != 0;
out:
	dtcp_stack_free(st);
	return ret;
}
