// mini_oms/net.hpp: the few socket calls every part of the example needs (the server's
// listener, the echo floor's, the load generator's and the tests' clients), once.
// A host is a name or a numeric IPv4 or IPv6 address ("localhost", "127.0.0.1", "::1"),
// resolved with getaddrinfo; listen_tcp binds the first address that works, connect_tcp
// connects to the first that answers. Errors throw std::runtime_error naming the call, the
// host and port, and strerror or gai_strerror.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace mini_oms::net {

/// The text for an errno value, into the caller's buffer: no allocation, no virtual call and
/// thread-safe (strerror is not). The gateway logs with it while the process is out of
/// descriptors, where error_category::message's virtual call trips UBSan's vptr check (the
/// check probes memory through a pipe, which cannot be created then).
inline const char* errno_text(int err, char (&buf)[128]) noexcept {
  return ::strerror_r(err, buf, sizeof buf);  // the GNU form: returns the text, maybe not buf
}

[[noreturn]] inline void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::generic_category().message(errno));  // strerror is MT-unsafe
}

/// One resolved address of a host.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

/// "host:port", with the host in brackets when it is an IPv6 address ("[::1]:7001").
inline std::string host_port(const std::string& host, std::uint16_t port) {
  std::string s = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  s += ':';
  s += std::to_string(port);
  return s;
}

/// The TCP addresses of `host` (a name, or numeric IPv4 or IPv6) with `port`, in the order
/// getaddrinfo prefers. `passive`: for a listener. Throws naming the host and gai_strerror.
inline std::vector<Endpoint> resolve(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::generic_category().message(errno) : ::gai_strerror(rc);
    throw std::runtime_error("cannot resolve host '" + host + "': " + why);
  }
  std::vector<Endpoint> out;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Endpoint e;
    std::memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    e.len = a->ai_addrlen;
    out.push_back(e);
  }
  ::freeaddrinfo(res);
  if (out.empty()) throw std::runtime_error("cannot resolve host '" + host + "': no IPv4 or IPv6 address");
  return out;
}

/// The port of an IPv4 or IPv6 socket address (host order).
inline std::uint16_t port_of(const sockaddr_storage& a) noexcept {
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
}

/// "ip:port" (IPv6: "[ip]:port") of an address, into the caller's buffer; "?" when it is
/// neither. No allocation: the gateway's log lines use it on the I/O thread.
inline const char* address_text(const sockaddr_storage& a, char (&buf)[INET6_ADDRSTRLEN + 16]) noexcept {
  char ip[INET6_ADDRSTRLEN];
  const bool v6 = a.ss_family == AF_INET6;
  const void* src = v6 ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr)
                       : static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(a).sin_addr);
  if ((a.ss_family != AF_INET && !v6) || ::inet_ntop(a.ss_family, src, ip, sizeof ip) == nullptr) {
    (void)std::snprintf(buf, sizeof buf, "?");
    return buf;
  }
  (void)std::snprintf(buf, sizeof buf, v6 ? "[%s]:%u" : "%s:%u", ip, static_cast<unsigned>(port_of(a)));
  return buf;
}

/// The peer of a connected socket as address_text gives it ("?" if getpeername fails).
inline const char* peer_text(int fd, char (&buf)[INET6_ADDRSTRLEN + 16]) noexcept {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) a.ss_family = AF_UNSPEC;
  return address_text(a, buf);
}

inline void set_nonblocking(int fd) {
  const int fl = ::fcntl(fd, F_GETFL, 0);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) fail("fcntl(O_NONBLOCK)");
}

/// Small requests and replies go out at once (no Nagle delay).
inline void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct Listener {
  int fd = -1;
  std::uint16_t port = 0;  // the bound one (port 0 asks for an ephemeral port)
};

/// A listening socket on host:port (SO_REUSEADDR), non-blocking if asked: the first of the
/// host's addresses that binds.
inline Listener listen_tcp(const std::string& host, std::uint16_t port, bool nonblocking, int backlog = 512) {
  int err = 0;
  for (const Endpoint& e : resolve(host, port, true)) {
    Listener l;
    l.fd = ::socket(e.addr.ss_family, SOCK_STREAM, 0);
    if (l.fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    (void)::setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(l.fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0 || ::listen(l.fd, backlog) != 0) {
      err = errno;
      ::close(l.fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    (void)::getsockname(l.fd, reinterpret_cast<sockaddr*>(&bound), &len);
    l.port = port_of(bound);
    if (nonblocking) set_nonblocking(l.fd);
    return l;
  }
  errno = err;
  fail("bind/listen on " + host_port(host, port));
}

/// A connected TCP socket with TCP_NODELAY, non-blocking if asked: the first of the host's
/// addresses that accepts the connection.
inline int connect_tcp(const std::string& host, std::uint16_t port, bool nonblocking) {
  int err = 0;
  for (const Endpoint& e : resolve(host, port, false)) {
    const int fd = ::socket(e.addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0) {
      err = errno;
      ::close(fd);
      continue;
    }
    set_nodelay(fd);
    if (nonblocking) set_nonblocking(fd);
    return fd;
  }
  errno = err;
  fail("connect to " + host_port(host, port));
}

}  // namespace mini_oms::net
