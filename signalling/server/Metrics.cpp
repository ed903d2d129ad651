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

} // namespace manifold::server
