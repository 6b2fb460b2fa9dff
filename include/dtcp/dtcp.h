/* dtcp: the one header an application includes.
 *
 * Every call takes the stack it acts on first, uses Linux's names, arguments,
 * constants and errno, and returns -1 with errno set on failure. */
#ifndef DTCP_DTCP_H
#define DTCP_DTCP_H

#include <dtcp/stack.h>
#include <dtcp/socket.h>
#include <dtcp/diag.h>

#endif
