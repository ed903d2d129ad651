// The option parser: defaults, config file plus command line, and one clear line for
// every bad value.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "app/Config.hpp"
#include "app/GstPlugins.hpp"

using manifold::app::Config;
using manifold::app::ParseOutcome;
using manifold::app::parseConfig;

namespace {

struct Parsed {
    ParseOutcome outcome;
    Config config;
    std::string out;
    std::string err;
};

Parsed parse(std::vector<std::string> args) {
    Parsed p;
    std::ostringstream out, err;
    p.outcome = parseConfig(args, p.config, out, err);
    p.out = out.str();
    p.err = err.str();
    return p;
}

std::string tempFile(const std::string& contents) {
    char name[] = "/tmp/manifold-config-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(name) << contents;
    return name;
}

void expectUsage(std::vector<std::string> args, const std::string& mention) {
    const Parsed p = parse(args);
    EXPECT_EQ(p.outcome, ParseOutcome::ExitUsage) << mention;
    EXPECT_NE(p.err.find(mention), std::string::npos) << p.err;
    EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << "one line: " << p.err;
}

} // namespace

TEST(Config, DefaultsOnLoopback) {
    const Parsed p = parse({});
    ASSERT_EQ(p.outcome, ParseOutcome::Run) << p.err;
    EXPECT_EQ(p.config.address, "127.0.0.1");
    EXPECT_EQ(p.config.port, 8443);
    EXPECT_EQ(p.config.auth, "none");
    EXPECT_TRUE(p.config.authDefaulted);
    EXPECT_EQ(p.config.iceAddresses, std::vector<std::string>{"127.0.0.1"});
}

TEST(Config, HelpAndVersion) {
    const Parsed help = parse({"--help"});
    EXPECT_EQ(help.outcome, ParseOutcome::ExitOk);
    for (const char* key : {"--address", "--port", "--tls-cert", "--ice-address", "--udp-port-min", "--stun-server",
                            "--turn-server", "--auth", "--jwt-secret", "--webhook-url", "--events-url",
                            "--recording-dir", "--max-rooms", "--max-participants", "--max-message-size",
                            "--max-message-rate", "--room-empty-timeout", "--log-level", "--config"})
        EXPECT_NE(help.out.find(key), std::string::npos) << key;
    const Parsed version = parse({"--version"});
    EXPECT_EQ(version.outcome, ParseOutcome::ExitOk);
    EXPECT_EQ(version.out, "manifold " MANIFOLD_VERSION "\n");
}

TEST(Config, PublicAddressNeedsAnAuthChoice) {
    expectUsage({"--address", "0.0.0.0"}, "auth is not set");
    const Parsed p = parse({"--address", "0.0.0.0", "--auth", "none"});
    EXPECT_EQ(p.outcome, ParseOutcome::Run);
    EXPECT_TRUE(p.config.iceAddresses.empty()) << "every interface";
}

TEST(Config, BadValuesNameTheOption) {
    expectUsage({"--port", "abc"}, "--port");
    expectUsage({"--port", "70000"}, "port");
    expectUsage({"--bogus"}, "--bogus");
    expectUsage({"--address", "not-an-ip"}, "address");
    expectUsage({"--tls-cert", "/nonexistent/cert.pem"}, "tls-cert and tls-key go together");
    expectUsage({"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}, "tls-cert");
    expectUsage({"--ice-address", "nope"}, "ice-address");
    expectUsage({"--udp-port-min", "40000", "--udp-port-max", "30000"}, "udp-port-min");
    expectUsage({"--stun-server", "http://x"}, "stun-server");
    expectUsage({"--turn-server", "turn:x:3478"}, "turn-username");
    expectUsage({"--auth", "magic"}, "auth 'magic'");
    expectUsage({"--auth", "jwt"}, "jwt-secret");
    expectUsage({"--auth", "jwt", "--jwt-secret", "short"}, "at least 32 bytes");
    expectUsage({"--auth", "webhook"}, "webhook-url");
    expectUsage({"--auth", "webhook", "--webhook-url", "ftp://x"}, "webhook-url");
    expectUsage({"--events-url", "nope"}, "events-url");
    expectUsage({"--max-message-size", "10"}, "max-message-size");
    expectUsage({"--max-message-rate", "0"}, "max-message-rate");
    expectUsage({"--max-tracks", "0"}, "max-tracks");
    expectUsage({"--log-level", "loud"}, "log-level");
    expectUsage({"--config", "/nonexistent/manifold.conf"}, "config file");
    expectUsage({"--max-rooms", "-1"}, "max-rooms");
    expectUsage({"--max-participants", "-1"}, "max-participants");
    expectUsage({"--port", "0", "stray"}, "unexpected argument 'stray'");
    expectUsage({"--http-header-timeout", "0"}, "http-header-timeout");
    expectUsage({"--http-body-timeout", "3601"}, "http-body-timeout");
    expectUsage({"--http-idle-timeout", "-1"}, "http-idle-timeout");
    expectUsage({"--max-connections", "0"}, "max-connections");
    expectUsage({"--max-connections", "10", "--max-connections-per-address", "11"}, "max-connections-per-address");
    expectUsage({"--max-connections-per-address", "0"}, "max-connections-per-address");
    expectUsage({"--gst-plugin-dir", "/nonexistent/plugins"}, "gst-plugin-dir '/nonexistent/plugins' is not a directory");
}

TEST(Config, HttpLimitsReachTheServer) {
    const Parsed defaults = parse({});
    ASSERT_EQ(defaults.outcome, ParseOutcome::Run) << defaults.err;
    const manifold::server::HttpLimits d = defaults.config.httpLimits();
    EXPECT_EQ(d.headerTimeout, std::chrono::seconds(10));
    EXPECT_EQ(d.bodyTimeout, std::chrono::seconds(30));
    EXPECT_EQ(d.idleTimeout, std::chrono::seconds(30));
    EXPECT_EQ(d.maxConnections, 512u);
    EXPECT_EQ(d.maxConnectionsPerAddress, 64u);

    const std::string file = tempFile("http-header-timeout = 2\nmax-connections = 40\n");
    const Parsed p = parse({"--config", file, "--http-body-timeout", "3", "--http-idle-timeout", "4",
                            "--max-connections-per-address", "40"});
    ASSERT_EQ(p.outcome, ParseOutcome::Run) << p.err;
    const manifold::server::HttpLimits l = p.config.httpLimits();
    EXPECT_EQ(l.headerTimeout, std::chrono::seconds(2));
    EXPECT_EQ(l.bodyTimeout, std::chrono::seconds(3));
    EXPECT_EQ(l.idleTimeout, std::chrono::seconds(4));
    EXPECT_EQ(l.maxConnections, 40u);
    EXPECT_EQ(l.maxConnectionsPerAddress, 40u);
    std::remove(file.c_str());
}

TEST(Config, GstPluginDir) {
    // Not given: the bundled build's output when it holds the patched rtpmanager, else none.
    const std::string bundled = manifold::app::bundledPluginDir();
    std::ifstream plugin(bundled + "/libgstrtpmanager.so");
    EXPECT_EQ(parse({}).config.gstPluginDir, plugin ? bundled : "");
    EXPECT_EQ(parse({"--gst-plugin-dir", "none"}).config.gstPluginDir, "");
    // Given: made absolute and canonical.
    const Parsed p = parse({"--gst-plugin-dir", MANIFOLD_SOURCE_ROOT "/tests/../examples"});
    ASSERT_EQ(p.outcome, ParseOutcome::Run) << p.err;
    EXPECT_EQ(p.config.gstPluginDir, MANIFOLD_SOURCE_ROOT "/examples");
    const Parsed relative = parse({"--gst-plugin-dir", "."});
    ASSERT_EQ(relative.outcome, ParseOutcome::Run) << relative.err;
    EXPECT_EQ(relative.config.gstPluginDir.front(), '/');
}

TEST(Config, FileThenCommandLineWins) {
    const std::string secret(40, 's');
    const std::string file = tempFile("port = 9000\nmax-rooms = 7\nauth = jwt\njwt-secret = " + secret +
                                      "\nstun-server = stun:a:3478\nstun-server = stun:b:3478\n");
    const Parsed p = parse({"--config", file, "--port", "9100"});
    ASSERT_EQ(p.outcome, ParseOutcome::Run) << p.err;
    EXPECT_EQ(p.config.port, 9100);
    EXPECT_EQ(p.config.maxRooms, 7);
    EXPECT_EQ(p.config.auth, "jwt");
    EXPECT_EQ(p.config.jwtSecret, secret);
    EXPECT_EQ(p.config.stunServers.size(), 2u);
    std::remove(file.c_str());
}

TEST(Config, UnknownKeyInFileIsAnError) {
    const std::string file = tempFile("prot = 9000\n");
    expectUsage({"--config", file}, "prot");
    std::remove(file.c_str());
}

TEST(Config, FileErrorsNameTheKeyAndTheFile) {
    // A file error is one line naming both the file and the offending key or value.
    const std::pair<const char*, const char*> cases[] = {
        {"prot = 9000\n", "unknown key 'prot'"},
        {"max-rooms = lots\n", "max-rooms"},
        {"just words\n", "just words"},
        {"[network]\nport = 9000\n", "network.port"},
    };
    for (const auto& [contents, mention] : cases) {
        const std::string file = tempFile(contents);
        expectUsage({"--config", file}, mention);
        expectUsage({"--config", file}, "config file '" + file + "'");
        std::remove(file.c_str());
    }
}

TEST(Config, CommandLineOnlyKeysInFileAreAnError) {
    // help, version and config are command-line options; in a file they used to be read
    // and then silently do nothing (no help printed, no other file read).
    const std::string other = tempFile("port = 9200\n");
    for (const std::string& line : std::vector<std::string>{"help = 1", "version = 1", "config = " + other}) {
        const std::string file = tempFile("port = 9100\n" + line + "\n");
        const std::string key = line.substr(0, line.find(' '));
        const Parsed p = parse({"--config", file});
        EXPECT_EQ(p.outcome, ParseOutcome::ExitUsage) << line;
        EXPECT_EQ(p.out, "") << line << ": nothing printed on stdout (no help, no version)";
        EXPECT_NE(p.err.find("key '" + key + "'"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find("command-line option"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find(file), std::string::npos) << "names the file: " << p.err;
        EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << "one line: " << p.err;
        std::remove(file.c_str());
    }
    // On the command line they still work, next to a file.
    const std::string good = tempFile("port = 9100\n");
    EXPECT_EQ(parse({"--config", good, "--help"}).outcome, ParseOutcome::ExitOk);
    const Parsed p = parse({"-c", good});
    ASSERT_EQ(p.outcome, ParseOutcome::Run) << p.err;
    EXPECT_EQ(p.config.port, 9100);
    std::remove(good.c_str());
    std::remove(other.c_str());
}

TEST(Config, SecretFile) {
    const std::string secret(48, 'k');
    const std::string file = tempFile(secret + "\n");
    const Parsed p = parse({"--auth", "jwt", "--jwt-secret-file", file});
    ASSERT_EQ(p.outcome, ParseOutcome::Run) << p.err;
    EXPECT_EQ(p.config.jwtSecret, secret) << "trailing newline dropped";
    expectUsage({"--auth", "jwt", "--jwt-secret-file", file, "--jwt-secret", secret}, "not both");
    std::remove(file.c_str());
}

TEST(Config, ExampleConfigIsValid) {
    const Parsed p = parse({"--config", MANIFOLD_SOURCE_ROOT "/examples/manifold.conf"});
    EXPECT_EQ(p.outcome, ParseOutcome::Run) << p.err;
}
