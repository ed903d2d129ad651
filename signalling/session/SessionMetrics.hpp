// SessionMetrics.hpp — counters the signalling sessions keep for /metrics.
//
// What: plain counters, rendered in Prometheus text by the HTTP server.
// Thread: control thread only (sessions and the server both live there).
// Ownership: owned by the HttpServer; every Session borrows it.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "signalling/protocol/AuthTypes.hpp"

namespace manifold::session {

struct SessionMetrics {
    std::uint64_t connectionsTotal = 0;
    std::uint64_t messagesReceived = 0;
    std::uint64_t messagesSent = 0;
    std::map<protocol::ErrorCode, std::uint64_t> errors; // error replies sent, by code
    std::array<std::uint64_t, 5> authDenials{};          // by AuthAction
};

} // namespace manifold::session
