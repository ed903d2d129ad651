// Metrics.hpp — Prometheus text exposition of the gateway's counters and gauges.
//
// What: renders /metrics: connections, rooms, participants, tracks, messages, errors by
// code, authorization denials by action, and the HTTP port's connection guard. Other parts add their own lines through
// HttpServer::addMetricsSource (see metricLine for the format helper).
// Thread: control thread. Ownership: free functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/Gateway.hpp"
#include "signalling/server/ConnectionGuard.hpp"
#include "signalling/session/SessionMetrics.hpp"

namespace manifold::server {

std::string renderMetrics(const Gateway& gateway, const session::SessionMetrics& metrics,
                          std::size_t openConnections);

/// The HTTP port's connections: open, accepted, refused by limit, timed out by phase,
/// requests answered with an error by the guard, failed accepts.
std::string renderConnectionMetrics(const ConnectionCounters& counters, std::size_t open);

/// "# HELP name help\n# TYPE name type\nname value\n"
std::string metricFamily(std::string_view name, std::string_view type, std::string_view help,
                         double value);

} // namespace manifold::server
