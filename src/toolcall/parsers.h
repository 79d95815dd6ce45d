// The formats' parsers, for the registry in tool_parser.cc. Internal to toolcall/.
#pragma once

#include <memory>

#include "toolcall/tool_parser.h"

namespace lantern::toolcall {

std::unique_ptr<Parser> MakeHermesParser();
std::unique_ptr<Parser> MakeLlama3JsonParser();
std::unique_ptr<Parser> MakeMistralParser();

}  // namespace lantern::toolcall
