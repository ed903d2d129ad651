// HttpLimits.hpp — time limits and connection caps of the HTTP port.
//
// What: the values of the http-header-timeout, http-body-timeout, http-idle-timeout,
// max-connections and max-connections-per-address options (README), as ConnectionGuard
// applies them. Defaults here are the options' defaults.
// Thread: a plain value. Ownership: copied into HttpServerConfig.
#pragma once

#include <chrono>
#include <cstddef>

namespace manifold::server {

struct HttpLimits {
    std::chrono::milliseconds headerTimeout{std::chrono::seconds(10)}; // TLS handshake + request head
    std::chrono::milliseconds bodyTimeout{std::chrono::seconds(30)};   // request body after its head
    std::chrono::milliseconds idleTimeout{std::chrono::seconds(30)};   // between requests; unread answer
    std::size_t maxConnections = 512;          // open TCP connections, WebSockets included
    std::size_t maxConnectionsPerAddress = 64; // of those, from one client IP address
};

} // namespace manifold::server
