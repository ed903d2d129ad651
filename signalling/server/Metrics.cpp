#include "signalling/server/Metrics.hpp"

#include <cstdio>

namespace manifold::server {
namespace {

std::string number(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    return buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

} // namespace

std::string metricFamily(std::string_view name, std::string_view type, std::string_view help,
                         double value) {
    std::string out;
    header(out, name, type, help);
    out.append(name).append(" ").append(number(value)).append("\n");
    return out;
}

std::string renderMetrics(const Gateway& gateway, const session::SessionMetrics& m,
                          std::size_t openConnections) {
    std::size_t tracks = 0;
    for (const RoomInfo& room : gateway.rooms())
        for (const ParticipantInfo& p : room.participants) tracks += p.tracks.size();

    std::string out;
    out += metricFamily("manifold_connections", "gauge", "Open WebSocket connections.", double(openConnections));
    out += metricFamily("manifold_connections_total", "counter", "WebSocket connections accepted.",
                        double(m.connectionsTotal));
    out += metricFamily("manifold_rooms", "gauge", "Open rooms.", double(gateway.roomCount()));
    out += metricFamily("manifold_participants", "gauge", "Participants in rooms.",
                        double(gateway.participantCount()));
    out += metricFamily("manifold_tracks", "gauge", "Published tracks.", double(tracks));
    out += metricFamily("manifold_messages_received_total", "counter", "Signalling frames received.",
                        double(m.messagesReceived));
    out += metricFamily("manifold_messages_sent_total", "counter", "Signalling messages sent.",
                        double(m.messagesSent));

    header(out, "manifold_errors_total", "counter", "Error replies sent, by code.");
    for (const auto& [code, count] : m.errors)
        out += "manifold_errors_total{code=\"" + std::to_string(int(code)) + "\",reason=\"" +
               protocol::errorReason(code) + "\"} " + number(double(count)) + "\n";

    header(out, "manifold_auth_denials_total", "counter", "Authorization denials, by action.");
    for (std::size_t i = 0; i < m.authDenials.size(); ++i)
        out += std::string("manifold_auth_denials_total{action=\"") +
               protocol::toString(protocol::AuthAction(i)) + "\"} " + number(double(m.authDenials[i])) + "\n";
    return out;
}

std::string renderConnectionMetrics(const ConnectionCounters& c, std::size_t open) {
    std::string out;
    out += metricFamily("manifold_http_connections", "gauge",
                        "Open TCP connections on the HTTP port (HTTP and WebSocket).", double(open));
    out += metricFamily("manifold_http_connections_accepted_total", "counter",
                        "TCP connections accepted on the HTTP port.", double(c.accepted));
    header(out, "manifold_http_connections_refused_total", "counter",
           "TCP connections closed at once because a limit was reached, by limit.");
    out += "manifold_http_connections_refused_total{limit=\"max-connections\"} " +
           number(double(c.refusedMaxConnections)) + "\n";
    out += "manifold_http_connections_refused_total{limit=\"max-connections-per-address\"} " +
           number(double(c.refusedMaxPerAddress)) + "\n";
    header(out, "manifold_http_timeouts_total", "counter",
           "HTTP connections closed by a timeout, by phase (header includes the TLS handshake).");
    for (std::size_t i = 0; i < kHttpPhaseNames.size(); ++i)
        out += std::string("manifold_http_timeouts_total{phase=\"") + kHttpPhaseNames[i] + "\"} " +
               number(double(c.timeouts[i])) + "\n";
    header(out, "manifold_http_requests_refused_total", "counter",
           "Requests answered with an error and a closed connection before libsoup handled them, by status.");
    for (unsigned status : {400u, 413u, 414u, 431u, 501u})
        if (c.refusedRequests.count(status) == 0)
            out += "manifold_http_requests_refused_total{status=\"" + std::to_string(status) + "\"} 0\n";
    for (const auto& [status, count] : c.refusedRequests)
        out += "manifold_http_requests_refused_total{status=\"" + std::to_string(status) + "\"} " +
               number(double(count)) + "\n";
    out += metricFamily("manifold_http_accept_errors_total", "counter",
                        "Failed accept() calls on the HTTP port (out of file descriptors); accepting pauses briefly.",
                        double(c.acceptErrors));
    return out;
}

} // namespace manifold::server
