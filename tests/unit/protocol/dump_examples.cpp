// dump_examples — the C++ side of the schema agreement test (tests/integration/schema.test.mjs).
//
//   dump_examples client|server         one encoded example of every client (server)
//                                       message, one JSON per line (the real encoders)
//   dump_examples decode-client|decode-server
//                                       decodes each line of stdin with the real decoder
//                                       and prints "ok" or "error <code> <message>"
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "Examples.hpp"
#include "signalling/protocol/Codec.hpp"

namespace {

using namespace manifold::protocol;

template <typename Variant>
void printResult(const Decoded<Variant>& decoded) {
    if (const auto* error = std::get_if<DecodeError>(&decoded))
        std::printf("error %d %s\n", static_cast<int>(error->code), error->message.c_str());
    else
        std::printf("ok\n");
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc == 2 ? argv[1] : "";
    if (mode == "client") {
        for (const ClientMessage& message : examples::clientMessages())
            std::printf("%s\n", encodeClient(message).c_str());
    } else if (mode == "server") {
        for (const ServerMessage& message : examples::serverMessages())
            std::printf("%s\n", encodeServer(message).c_str());
    } else if (mode == "decode-client" || mode == "decode-server") {
        std::string line;
        while (std::getline(std::cin, line)) {
            if (mode == "decode-client")
                printResult(decodeClient(line));
            else
                printResult(decodeServer(line));
        }
    } else {
        std::fprintf(stderr, "usage: %s client|server|decode-client|decode-server\n", argv[0]);
        return 2;
    }
    return 0;
}
