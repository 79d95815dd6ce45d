// Subcommands of the `lantern` executable register themselves here:
//   LANTERN_COMMAND(generate, "Generate tokens greedily from prompt ids") {
//     ... parse args (argv[0] is "lantern generate") ... return exit_code; }
#pragma once

#include <string>
#include <vector>

namespace lantern::cli {

using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string name;
  std::string summary;
  CommandFn run;
};

std::vector<Command>& Commands();

struct CommandRegistrar {
  CommandRegistrar(const char* name, const char* summary, CommandFn run) {
    Commands().push_back({name, summary, run});
  }
};

}  // namespace lantern::cli

#define LANTERN_COMMAND(name, summary)                                                             \
  static int LanternCommand_##name(int argc, char** argv);                                         \
  static ::lantern::cli::CommandRegistrar lantern_command_registrar_##name(#name, summary,         \
                                                                           LanternCommand_##name); \
  static int LanternCommand_##name(int argc, char** argv)
