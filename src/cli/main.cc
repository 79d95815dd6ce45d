// `lantern <command> [flags]`: dispatches to a registered subcommand.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/command.h"

namespace lantern::cli {

std::vector<Command>& Commands() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: lantern <command> [flags]\n\ncommands:\n");
  auto commands = Commands();
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  for (const auto& c : commands)
    std::fprintf(out, "  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  std::fprintf(out, "\nRun 'lantern <command> --help' for the flags of a command.\n");
}

}  // namespace
}  // namespace lantern::cli

int main(int argc, char** argv) {
  using lantern::cli::Commands;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    lantern::cli::PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("lantern %s\n", LANTERN_VERSION);
    return 0;
  }
  for (const auto& command : Commands()) {
    if (command.name == argv[1]) {
      // The command sees "lantern <command>" as its program name.
      std::string program = std::string("lantern ") + argv[1];
      argv[1] = program.data();
      try {
        return command.run(argc - 1, argv + 1);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "lantern %s: error: %s\n", command.name.c_str(), e.what());
        return 1;
      }
    }
  }
  std::fprintf(stderr, "lantern: unknown command '%s'\n\n", argv[1]);
  lantern::cli::PrintUsage(stderr);
  return 2;
}
