#include "common/Log.h"

#include <QDir>
#include <algorithm>
#include <mutex>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <vector>

namespace gd::log {

namespace {
std::mutex g_mutex;
std::vector<spdlog::sink_ptr> g_sinks;
spdlog::level::level_enum g_level = spdlog::level::warn;

std::vector<spdlog::sink_ptr>& sinks()
{
    if (g_sinks.empty()) {
        auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        err->set_level(spdlog::level::warn);
        g_sinks.push_back(err);
    }
    return g_sinks;
}
} // namespace

void init(const QString& logDir, bool verbose)
{
    std::lock_guard lock(g_mutex);
    auto& s = sinks();
    if (verbose)
        s.front()->set_level(spdlog::level::debug);
    g_level = verbose ? spdlog::level::debug : spdlog::level::info;
    if (!logDir.isEmpty() && QDir().mkpath(logDir)) {
        try {
            auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                QDir(logDir).filePath(QStringLiteral("gemdirect.log")).toStdString(), 5 * 1024 * 1024, 3);
            file->set_level(spdlog::level::debug);
            s.push_back(file);
        } catch (const spdlog::spdlog_ex&) {
            // An unwritable log directory must not stop a render; stderr still gets warnings.
        }
    }
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
        l->sinks() = s;
        l->set_level(g_level);
    });
}

void applyEnvLevel()
{
    const QByteArray env = qgetenv("GD_LOG_LEVEL");
    if (env.isEmpty())
        return;
    std::lock_guard lock(g_mutex);
    g_level = spdlog::level::from_str(env.toStdString());
    for (auto& s : sinks())
        s->set_level(g_level);
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

void addSink(const spdlog::sink_ptr& sink)
{
    std::lock_guard lock(g_mutex);
    auto& s = sinks();
    if (std::find(s.begin(), s.end(), sink) != s.end())
        return;
    s.push_back(sink);
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks().push_back(sink); });
}

void removeSink(const spdlog::sink_ptr& sink)
{
    std::lock_guard lock(g_mutex);
    auto& s = sinks();
    s.erase(std::remove(s.begin(), s.end(), sink), s.end());
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
        auto& ls = l->sinks();
        ls.erase(std::remove(ls.begin(), ls.end(), sink), ls.end());
    });
}

std::shared_ptr<spdlog::logger> get(const std::string& area)
{
    std::lock_guard lock(g_mutex);
    if (auto existing = spdlog::get(area))
        return existing;
    auto& s = sinks();
    auto logger = std::make_shared<spdlog::logger>(area, s.begin(), s.end());
    logger->set_level(g_level);
    spdlog::register_logger(logger);
    return logger;
}

} // namespace gd::log
