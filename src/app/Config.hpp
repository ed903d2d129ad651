// Config.hpp — every setting of the `manifold` binary, and its parser.
//
// What: Boost.Program_options over the command line and an optional INI file
// (`--config FILE`; every key there is also a command-line option, and the command line
// wins; the command-line-only help, version and config are refused as keys). Validation
// happens here, so a bad value is reported before anything starts.
// examples/manifold.conf documents every key.
// Thread: main thread, before the loop runs. Ownership: plain value, owned by main.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "signalling/server/HttpLimits.hpp"

namespace manifold::app {

struct Config {
    // network
    std::string address = "127.0.0.1";
    int port = 8443;
    std::string tlsCertificate;
    std::string tlsKey;
    std::vector<std::string> iceAddresses; // resolved: empty = every interface
    int udpPortMin = 0;                    // 0/0 = any port the OS gives
    int udpPortMax = 0;
    int jitterLatencyMs = 100;              // receive jitterbuffer of published streams
    int answerTimeoutSeconds = 10;         // a client that does not answer an offer is dropped
    std::vector<std::string> stunServers;  // handed to clients in `joined`
    std::vector<std::string> turnServers;
    std::string turnUsername;
    std::string turnPassword;
    // authorization
    std::string auth;                      // "jwt", "webhook", "none" (resolved)
    std::string jwtSecret;                 // resolved from jwt-secret or jwt-secret-file
    int jwtLeewaySeconds = 5;
    std::string webhookUrl;
    std::string webhookToken;
    int webhookTimeoutMs = 2000;
    std::string eventsUrl;
    std::string eventsToken;
    // storage
    std::string recordingDir = "recordings";
    // limits
    // Signed, so that "-1" is refused instead of wrapping to a huge unsigned value.
    long long maxRooms = 100;
    long long maxParticipants = 50;
    long long maxTracks = 8;
    long long maxMessageSize = 65536;
    double maxMessageRate = 50;
    int roomEmptyTimeoutSeconds = 20;
    int joinTimeoutSeconds = 30;
    int idleTimeoutSeconds = 60;
    int keepaliveSeconds = 20;
    // the HTTP port (every connection, before and besides the WebSocket session)
    int httpHeaderTimeoutSeconds = 10;     // TLS handshake + request head
    int httpBodyTimeoutSeconds = 30;       // request body, after its head
    int httpIdleTimeoutSeconds = 30;       // kept-alive connection between requests; unread answer
    long long maxConnections = 512;        // open TCP connections, WebSockets included
    long long maxConnectionsPerAddress = 64;
    // misc
    std::string webRoot;                   // "" = the demo page embedded in the binary
    std::string logLevel = "warning";
    std::string gstPluginDir;              // plugins preferred to the system's ("" = none); absolute
    bool authDefaulted = false;            // auth was not set and defaulted to none (loopback)

    /// The http-* timeouts and max-connections* caps, as the HTTP server takes them.
    server::HttpLimits httpLimits() const;
};

enum class ParseOutcome { Run, ExitOk, ExitUsage };

/// Parses and validates. On ExitUsage, one line naming the bad option or value was
/// written to `err`; --help and --version write to `out` and return ExitOk.
ParseOutcome parseConfig(const std::vector<std::string>& args, Config& config, std::ostream& out,
                         std::ostream& err);

bool isLoopbackAddress(const std::string& address);

} // namespace manifold::app
