// CodecTestSupport.hpp — small helpers shared by the codec tests.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "signalling/protocol/Codec.hpp"

namespace manifold::protocol::testing {

/// The error of a decode that must fail (an empty error and a test failure otherwise).
template <typename T>
DecodeError errorOf(const Decoded<T>& decoded, std::string_view input) {
    if (const auto* error = std::get_if<DecodeError>(&decoded))
        return *error;
    ADD_FAILURE() << "decoded although it should not: " << input;
    return DecodeError{};
}

inline DecodeError clientError(std::string_view text) { return errorOf(decodeClient(text), text); }
inline DecodeError serverError(std::string_view text) { return errorOf(decodeServer(text), text); }

/// The message of a decode that must succeed, as the given alternative.
template <typename M, typename Variant>
M valueOf(const Decoded<Variant>& decoded, std::string_view input) {
    if (const auto* error = std::get_if<DecodeError>(&decoded)) {
        ADD_FAILURE() << "failed to decode " << input << ": " << error->message;
        return M{};
    }
    const Variant& message = std::get<Variant>(decoded);
    if (const auto* value = std::get_if<M>(&message))
        return *value;
    ADD_FAILURE() << "decoded to another type: " << input;
    return M{};
}

template <typename M>
M client(std::string_view text) { return valueOf<M>(decodeClient(text), text); }
template <typename M>
M server(std::string_view text) { return valueOf<M>(decodeServer(text), text); }

} // namespace manifold::protocol::testing
