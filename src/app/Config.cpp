#include "app/Config.hpp"

#include <boost/program_options.hpp>
#include <gio/gio.h>

#include "app/GstPlugins.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace manifold::app {
namespace {

struct UsageError {
    std::string message;
};

[[noreturn]] void bad(const std::string& message) { throw UsageError{message}; }

struct Options {
    po::options_description visible; // what --help shows
    po::options_description all;     // plus the hidden catch-all for stray arguments
    po::options_description file;    // the keys a --config file may hold: all but General
    po::options_description cliOnly; // General: --help, --version, --config
};

Options describe(Config& c, std::string& configFile, std::string& jwtSecretFile, std::vector<std::string>& stray) {
    po::options_description general("General");
    general.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("config,c", po::value(&configFile)->value_name("FILE"),
         "read settings from FILE (INI: key = value; every option below is a key)");

    po::options_description network("Network");
    network.add_options()
        ("address", po::value(&c.address)->default_value(c.address)->value_name("IP"),
         "HTTP/WebSocket listen address (0.0.0.0 or :: for every interface)")
        ("port", po::value(&c.port)->default_value(c.port)->value_name("N"),
         "HTTP/WebSocket listen port (0 = any free port)")
        ("tls-cert", po::value(&c.tlsCertificate)->value_name("FILE"),
         "PEM certificate chain; with --tls-key serves https:// and wss://")
        ("tls-key", po::value(&c.tlsKey)->value_name("FILE"), "PEM private key for --tls-cert")
        ("ice-address", po::value(&c.iceAddresses)->composing()->value_name("IP"),
         "address ICE gathers media candidates on (repeatable; default: every interface, "
         "or 127.0.0.1 when only loopback is listened on)")
        ("udp-port-min", po::value(&c.udpPortMin)->default_value(c.udpPortMin)->value_name("N"),
         "lowest UDP port for media (0 with udp-port-max 0 = any)")
        ("udp-port-max", po::value(&c.udpPortMax)->default_value(c.udpPortMax)->value_name("N"),
         "highest UDP port for media")
        ("jitter-latency-ms", po::value(&c.jitterLatencyMs)->default_value(c.jitterLatencyMs)->value_name("MS"),
         "receive jitter buffer of published streams: added delay vs. time to recover lost packets")
        ("answer-timeout", po::value(&c.answerTimeoutSeconds)->default_value(c.answerTimeoutSeconds)->value_name("S"),
         "seconds a client has to answer an SDP offer before it is disconnected")
        ("stun-server", po::value(&c.stunServers)->composing()->value_name("URL"),
         "STUN server handed to clients, e.g. stun:stun.example.org:3478 (repeatable)")
        ("turn-server", po::value(&c.turnServers)->composing()->value_name("URL"),
         "TURN server handed to clients, e.g. turn:turn.example.org:3478?transport=udp (repeatable)")
        ("turn-username", po::value(&c.turnUsername)->value_name("NAME"), "username for the TURN servers")
        ("turn-password", po::value(&c.turnPassword)->value_name("SECRET"), "credential for the TURN servers");

    po::options_description auth("Authorization");
    auth.add_options()
        ("auth", po::value(&c.auth)->value_name("MODE"),
         "jwt | webhook | none (default: none when listening on loopback only, else required)")
        ("jwt-secret", po::value(&c.jwtSecret)->value_name("SECRET"),
         "HS256 secret for --auth=jwt, at least 32 bytes (prefer jwt-secret-file)")
        ("jwt-secret-file", po::value(&jwtSecretFile)->value_name("FILE"),
         "file holding the HS256 secret (trailing newline ignored)")
        ("jwt-leeway", po::value(&c.jwtLeewaySeconds)->default_value(c.jwtLeewaySeconds)->value_name("S"),
         "seconds of clock skew tolerated on exp/nbf")
        ("webhook-url", po::value(&c.webhookUrl)->value_name("URL"),
         "for --auth=webhook: POSTed every decision; allows only on {\"allow\": true}")
        ("webhook-token", po::value(&c.webhookToken)->value_name("TOKEN"),
         "sent to the webhook as 'Authorization: Bearer TOKEN'")
        ("webhook-timeout-ms", po::value(&c.webhookTimeoutMs)->default_value(c.webhookTimeoutMs)->value_name("MS"),
         "webhook answer deadline; no answer in time denies")
        ("events-url", po::value(&c.eventsUrl)->value_name("URL"),
         "POST event notifications (joins, leaves, tracks, rooms) here as JSON")
        ("events-token", po::value(&c.eventsToken)->value_name("TOKEN"),
         "sent with event notifications as 'Authorization: Bearer TOKEN'");

    po::options_description limits("Limits and storage");
    limits.add_options()
        ("recording-dir", po::value(&c.recordingDir)->default_value(c.recordingDir)->value_name("DIR"),
         "where recordings are written (created if missing)")
        ("max-rooms", po::value(&c.maxRooms)->default_value(c.maxRooms)->value_name("N"), "rooms open at once")
        ("max-participants", po::value(&c.maxParticipants)->default_value(c.maxParticipants)->value_name("N"),
         "participants per room")
        ("max-tracks", po::value(&c.maxTracks)->default_value(c.maxTracks)->value_name("N"),
         "tracks one participant may publish")
        ("max-message-size", po::value(&c.maxMessageSize)->default_value(c.maxMessageSize)->value_name("BYTES"),
         "largest signalling frame accepted")
        ("max-message-rate", po::value(&c.maxMessageRate)->default_value(c.maxMessageRate)->value_name("N"),
         "signalling frames per second per connection (bursts of twice that)")
        ("room-empty-timeout", po::value(&c.roomEmptyTimeoutSeconds)->default_value(c.roomEmptyTimeoutSeconds)->value_name("S"),
         "seconds an empty room stays open before it closes (0 = at once)")
        ("join-timeout", po::value(&c.joinTimeoutSeconds)->default_value(c.joinTimeoutSeconds)->value_name("S"),
         "seconds a connection may take to join before it is closed")
        ("idle-timeout", po::value(&c.idleTimeoutSeconds)->default_value(c.idleTimeoutSeconds)->value_name("S"),
         "close a connection that sent nothing (not even ping) for this long (0 = never)")
        ("keepalive", po::value(&c.keepaliveSeconds)->default_value(c.keepaliveSeconds)->value_name("S"),
         "seconds between WebSocket pings from the server (0 = off)")
        ("http-header-timeout", po::value(&c.httpHeaderTimeoutSeconds)->default_value(c.httpHeaderTimeoutSeconds)->value_name("S"),
         "close an HTTP connection whose request head (and TLS handshake) is not complete this many seconds "
         "after it opened or after the request's first byte")
        ("http-body-timeout", po::value(&c.httpBodyTimeoutSeconds)->default_value(c.httpBodyTimeoutSeconds)->value_name("S"),
         "close an HTTP connection whose request body is not complete this many seconds after its head")
        ("http-idle-timeout", po::value(&c.httpIdleTimeoutSeconds)->default_value(c.httpIdleTimeoutSeconds)->value_name("S"),
         "close a kept-alive HTTP connection that sends no new request, or does not read its answer, for "
         "this many seconds")
        ("max-connections", po::value(&c.maxConnections)->default_value(c.maxConnections)->value_name("N"),
         "open TCP connections on the HTTP port, WebSockets included; more are closed at once")
        ("max-connections-per-address", po::value(&c.maxConnectionsPerAddress)->default_value(c.maxConnectionsPerAddress)->value_name("N"),
         "open TCP connections from one client IP address");

    po::options_description misc("Miscellaneous");
    misc.add_options()
        ("web-root", po::value(&c.webRoot)->value_name("DIR"),
         "serve the web page from DIR instead of the demo page built into the binary")
        ("log-level", po::value(&c.logLevel)->default_value(c.logLevel)->value_name("LEVEL"),
         "error | warning | info | debug | trace (GST_DEBUG=manifold*:N also works)")
        ("gst-plugin-dir", po::value(&c.gstPluginDir)->value_name("DIR"),
         "GStreamer plugins used instead of the system's of the same name: the patched rtpmanager "
         "(default: what subprojects/gst-rtpmanager-patched/build.sh built in this source tree, "
         "if it did; none = the system's plugins only)");

    Options out;
    out.visible.add(general).add(network).add(auth).add(limits).add(misc);
    out.file.add(network).add(auth).add(limits).add(misc);
    out.cliOnly.add(general);
    po::options_description hidden;
    hidden.add_options()("stray-argument", po::value(&stray)->composing(), "");
    out.all.add(out.visible).add(hidden);
    return out;
}

std::string readSecretFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) bad("jwt-secret-file '" + path + "' cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string secret = ss.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
}

void requireUrl(const std::string& key, const std::string& url) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        bad(key + " '" + url + "' must start with http:// or https://");
}

void requireIp(const std::string& key, const std::string& value) {
    GInetAddress* inet = g_inet_address_new_from_string(value.c_str());
    if (!inet) bad(key + " '" + value + "' is not an IP address");
    g_object_unref(inet);
}

void requireFile(const std::string& key, const std::string& path) {
    std::ifstream in(path);
    if (!in) bad(key + " '" + path + "' cannot be read");
}

// --gst-plugin-dir: a directory given is made absolute; not given, the bundled build's
// output if it holds the patched rtpmanager.
void resolvePluginDir(Config& c, bool given) {
    if (!given) {
        const std::string bundled = bundledPluginDir();
        const bool built = g_file_test((bundled + "/libgstrtpmanager.so").c_str(), G_FILE_TEST_IS_REGULAR);
        c.gstPluginDir = built ? bundled : "";
        return;
    }
    if (c.gstPluginDir.empty() || c.gstPluginDir == "none") {
        c.gstPluginDir.clear();
        return;
    }
    if (!g_file_test(c.gstPluginDir.c_str(), G_FILE_TEST_IS_DIR)) bad("gst-plugin-dir '" + c.gstPluginDir + "' is not a directory");
    gchar* absolute = g_canonicalize_filename(c.gstPluginDir.c_str(), nullptr);
    c.gstPluginDir = absolute;
    g_free(absolute);
}

void validate(Config& c, const std::string& jwtSecretFile) {
    requireIp("address", c.address);
    if (c.port < 0 || c.port > 65535) bad("port " + std::to_string(c.port) + " is out of range 0..65535");
    if (c.tlsCertificate.empty() != c.tlsKey.empty()) bad("tls-cert and tls-key go together; give both or neither");
    if (!c.tlsCertificate.empty()) {
        requireFile("tls-cert", c.tlsCertificate);
        requireFile("tls-key", c.tlsKey);
    }
    for (const auto& a : c.iceAddresses) requireIp("ice-address", a);
    if (c.iceAddresses.empty() && isLoopbackAddress(c.address)) c.iceAddresses = {"127.0.0.1"};
    if (c.udpPortMin < 0 || c.udpPortMax < 0 || c.udpPortMin > 65535 || c.udpPortMax > 65535)
        bad("udp-port-min/udp-port-max must be within 0..65535");
    if ((c.udpPortMin == 0) != (c.udpPortMax == 0)) bad("udp-port-min and udp-port-max go together");
    if (c.udpPortMin > c.udpPortMax) bad("udp-port-min is above udp-port-max");
    if (c.jitterLatencyMs < 0 || c.jitterLatencyMs > 2000) bad("jitter-latency-ms must be within 0..2000");
    if (c.answerTimeoutSeconds < 1 || c.answerTimeoutSeconds > 300) bad("answer-timeout must be within 1..300 seconds");
    for (const auto& s : c.stunServers)
        if (s.rfind("stun:", 0) != 0 && s.rfind("stuns:", 0) != 0)
            bad("stun-server '" + s + "' must start with stun: or stuns:");
    for (const auto& s : c.turnServers)
        if (s.rfind("turn:", 0) != 0 && s.rfind("turns:", 0) != 0)
            bad("turn-server '" + s + "' must start with turn: or turns:");
    if (!c.turnServers.empty() && (c.turnUsername.empty() || c.turnPassword.empty()))
        bad("turn-server needs turn-username and turn-password");

    if (!jwtSecretFile.empty()) {
        if (!c.jwtSecret.empty()) bad("give jwt-secret or jwt-secret-file, not both");
        c.jwtSecret = readSecretFile(jwtSecretFile);
    }
    if (c.auth.empty()) {
        if (!isLoopbackAddress(c.address))
            bad("auth is not set and address " + c.address +
                " is reachable from other machines; set --auth=jwt (with --jwt-secret-file), "
                "--auth=webhook (with --webhook-url) or, for development only, --auth=none");
        c.auth = "none";
        c.authDefaulted = true;
    }
    if (c.auth == "jwt") {
        if (c.jwtSecret.empty()) bad("auth=jwt needs jwt-secret or jwt-secret-file");
        if (c.jwtSecret.size() < 32) bad("jwt-secret must be at least 32 bytes (256 bits) for HS256");
    } else if (c.auth == "webhook") {
        if (c.webhookUrl.empty()) bad("auth=webhook needs webhook-url");
    } else if (c.auth != "none") {
        bad("auth '" + c.auth + "' is not one of jwt, webhook, none");
    }
    if (c.jwtLeewaySeconds < 0 || c.jwtLeewaySeconds > 3600) bad("jwt-leeway must be within 0..3600 seconds");
    if (!c.webhookUrl.empty()) requireUrl("webhook-url", c.webhookUrl);
    if (c.webhookTimeoutMs < 1 || c.webhookTimeoutMs > 60000) bad("webhook-timeout-ms must be within 1..60000");
    if (!c.eventsUrl.empty()) requireUrl("events-url", c.eventsUrl);
    if (c.recordingDir.empty()) bad("recording-dir must not be empty");

    if (c.maxRooms < 1) bad("max-rooms must be at least 1");
    if (c.maxParticipants < 1) bad("max-participants must be at least 1");
    if (c.maxTracks < 1 || c.maxTracks > 64) bad("max-tracks must be within 1..64");
    if (c.maxMessageSize < 1024 || c.maxMessageSize > 1024 * 1024)
        bad("max-message-size must be within 1024..1048576 bytes (the codec refuses larger frames)");
    if (!(c.maxMessageRate >= 1 && c.maxMessageRate <= 10000)) bad("max-message-rate must be within 1..10000");
    if (c.roomEmptyTimeoutSeconds < 0) bad("room-empty-timeout must not be negative");
    if (c.joinTimeoutSeconds < 1) bad("join-timeout must be at least 1 second");
    if (c.idleTimeoutSeconds < 0) bad("idle-timeout must not be negative");
    if (c.keepaliveSeconds < 0) bad("keepalive must not be negative");
    if (c.httpHeaderTimeoutSeconds < 1 || c.httpHeaderTimeoutSeconds > 3600)
        bad("http-header-timeout must be within 1..3600 seconds");
    if (c.httpBodyTimeoutSeconds < 1 || c.httpBodyTimeoutSeconds > 3600)
        bad("http-body-timeout must be within 1..3600 seconds");
    if (c.httpIdleTimeoutSeconds < 1 || c.httpIdleTimeoutSeconds > 3600)
        bad("http-idle-timeout must be within 1..3600 seconds");
    if (c.maxConnections < 1 || c.maxConnections > 1000000) bad("max-connections must be within 1..1000000");
    if (c.maxConnectionsPerAddress < 1 || c.maxConnectionsPerAddress > c.maxConnections)
        bad("max-connections-per-address must be within 1..max-connections (" + std::to_string(c.maxConnections) + ")");
    static const char* levels[] = {"error", "warning", "info", "debug", "trace"};
    bool known = false;
    for (const char* l : levels) known = known || c.logLevel == l;
    if (!known) bad("log-level '" + c.logLevel + "' is not one of error, warning, info, debug, trace");
}

// Reads the --config file into `vm`, after the command line (so the command line wins).
// Every problem is one line naming the file: an unknown key, a command-line-only key
// (help, version, config: they would otherwise be read and silently do nothing), a bad
// value, a malformed line.
void storeConfigFile(std::istream& in, const std::string& file, const Options& options, po::variables_map& vm) {
    const std::string where = "config file '" + file + "': ";
    po::parsed_options parsed(nullptr);
    try {
        parsed = po::parse_config_file(in, options.file, /*allow_unregistered=*/true);
    } catch (const po::error& e) {
        bad(where + e.what());
    }
    for (const po::option& o : parsed.options) {
        if (!o.unregistered) continue;
        if (options.cliOnly.find_nothrow(o.string_key, false))
            bad(where + "key '" + o.string_key + "' is a command-line option only (--" + o.string_key +
                "); remove it from the file");
        bad(where + "unknown key '" + o.string_key + "' (see --help)");
    }
    try {
        po::store(parsed, vm);
    } catch (const po::error& e) {
        bad(where + e.what() + " (see --help)");
    }
}

} // namespace

server::HttpLimits Config::httpLimits() const {
    server::HttpLimits limits;
    limits.headerTimeout = std::chrono::seconds(httpHeaderTimeoutSeconds);
    limits.bodyTimeout = std::chrono::seconds(httpBodyTimeoutSeconds);
    limits.idleTimeout = std::chrono::seconds(httpIdleTimeoutSeconds);
    limits.maxConnections = static_cast<std::size_t>(maxConnections);
    limits.maxConnectionsPerAddress = static_cast<std::size_t>(maxConnectionsPerAddress);
    return limits;
}

bool isLoopbackAddress(const std::string& address) {
    GInetAddress* inet = g_inet_address_new_from_string(address.c_str());
    if (!inet) return false;
    const bool loopback = g_inet_address_get_is_loopback(inet);
    g_object_unref(inet);
    return loopback;
}

ParseOutcome parseConfig(const std::vector<std::string>& args, Config& config, std::ostream& out,
                         std::ostream& err) {
    std::string configFile;
    std::string jwtSecretFile;
    std::vector<std::string> stray;
    const Options options = describe(config, configFile, jwtSecretFile, stray);
    po::positional_options_description positional;
    positional.add("stray-argument", -1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(args).options(options.all).positional(positional).run(), vm);
        if (vm.count("help")) {
            out << "Usage: manifold [OPTIONS]\n"
                   "Manifold " MANIFOLD_VERSION " - a GStreamer-based multiparty media gateway.\n"
                << options.visible
                << "\nEvery option but --help, --version and --config can also be a key in the --config file.\n";
            return ParseOutcome::ExitOk;
        }
        if (vm.count("version")) {
            out << "manifold " MANIFOLD_VERSION "\n";
            return ParseOutcome::ExitOk;
        }
        if (vm.count("config")) {
            const std::string file = vm["config"].as<std::string>();
            std::ifstream in(file);
            if (!in) bad("config file '" + file + "' cannot be read");
            storeConfigFile(in, file, options, vm);
        }
        po::notify(vm);
        if (!stray.empty())
            bad("unexpected argument '" + stray.front() + "'; options start with -- (see --help)");
        validate(config, jwtSecretFile);
        resolvePluginDir(config, vm.count("gst-plugin-dir") > 0);
    } catch (const UsageError& e) {
        err << "manifold: " << e.message << "\n";
        return ParseOutcome::ExitUsage;
    } catch (const po::error& e) {
        err << "manifold: " << e.what() << " (see --help)\n";
        return ParseOutcome::ExitUsage;
    }
    return ParseOutcome::Run;
}

} // namespace manifold::app
