#pragma once

#include <QString>
#include <memory>
#include <spdlog/logger.h>
#include <string>

namespace gd::log {

// Logging set-up: one spdlog logger per area ("app", "comfy", "gpu", "pipeline", "llm", ...),
// all sharing the same sinks: stderr (warnings and up unless verbose) and, once init() named a
// directory, a rotating file there. Before init() loggers write to stderr only.
void init(const QString& logDir, bool verbose);
std::shared_ptr<spdlog::logger> get(const std::string& area);
// Level from GD_LOG_LEVEL (trace|debug|info|warn|error|off) when set, else the given default.
void applyEnvLevel();
// Adds a sink to every logger, present and future (the desktop app's log view). Call while no other
// thread logs (start-up, or tests between runs): spdlog does not lock a logger's sink list.
void addSink(const spdlog::sink_ptr& sink);
void removeSink(const spdlog::sink_ptr& sink);

} // namespace gd::log
