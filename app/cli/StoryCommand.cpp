#include "StoryCommand.h"

#include "CliCommon.h"
#include "SignalWatcher.h"

#include "common/AtomicFile.h"
#include "common/Log.h"
#include "llm/PromptLibrary.h"
#include "sandbox/SandboxLlmHost.h"
#include "story/StoryLoader.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>

#include <cstdlib>
#include <memory>

using namespace gd;

namespace cli {

QString userTemplateDir()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("prompts"));
}

void addStoryOptions(QCommandLineParser& p)
{
    p.addOption({QStringLiteral("idea"), QStringLiteral("What the story is about (one or two sentences)."), QStringLiteral("TEXT")});
    p.addOption({QStringLiteral("genre"), QStringLiteral("sci-fi | drama | thriller (picks the template; default sci-fi)."), QStringLiteral("GENRE")});
    p.addOption({QStringLiteral("scenes"), QStringLiteral("Number of scenes (default 5)."), QStringLiteral("N")});
    p.addOption({QStringLiteral("llm-url"), QStringLiteral("LLM server (LOCAL_STORY_PROVIDER_URL; default http://127.0.0.1:1234, LM Studio). A full /v1/chat/completions URL is accepted."), QStringLiteral("URL")});
    p.addOption({QStringLiteral("model"), QStringLiteral("Model id (default: the model the server has loaded)."), QStringLiteral("ID")});
    p.addOption({QStringLiteral("template"), QStringLiteral("Prompt template, e.g. story-sci-fi@1.0 (see `gemdirect templates`)."), QStringLiteral("ID[@VERSION]")});
    p.addOption({QStringLiteral("seed"), QStringLiteral("Sampling seed for reproducible stories."), QStringLiteral("N")});
    p.addOption({QStringLiteral("llm-token"), QStringLiteral("API key / bearer token for the LLM server (LOCAL_LLM_API_KEY)."), QStringLiteral("TOKEN")});
    p.addOption({QStringLiteral("no-shots"), QStringLiteral("Skip the shots stage: no shot lists, reference-sheet prompts or locations; "
                                                            "every scene renders as one implicit shot.")});
}

llm::StoryRequest storyRequestFrom(const QCommandLineParser& p, QStringList* errors)
{
    llm::StoryRequest r;
    r.idea = p.value(QStringLiteral("idea"));
    r.genre = p.isSet(QStringLiteral("genre")) ? p.value(QStringLiteral("genre")) : QStringLiteral("sci-fi");
    r.templateKey = p.value(QStringLiteral("template"));
    r.model = p.value(QStringLiteral("model"));
    r.shots = !p.isSet(QStringLiteral("no-shots"));
    if (p.isSet(QStringLiteral("scenes"))) {
        bool ok = false;
        r.sceneCount = p.value(QStringLiteral("scenes")).toInt(&ok);
        if (!ok)
            errors->append(QStringLiteral("--scenes: '%1' is not a whole number").arg(p.value(QStringLiteral("scenes"))));
    }
    if (p.isSet(QStringLiteral("seed"))) {
        bool ok = false;
        const qint64 seed = p.value(QStringLiteral("seed")).toLongLong(&ok);
        if (!ok || seed < 0)
            errors->append(QStringLiteral("--seed: '%1' is not a non-negative whole number").arg(p.value(QStringLiteral("seed"))));
        else
            r.seed = seed;
    }
    return r;
}

llm::StoryServiceOptions storyServiceOptionsFrom(const QCommandLineParser& p)
{
    llm::StoryServiceOptions o;
    o.llmUrl = p.value(QStringLiteral("llm-url"));
    o.model = p.value(QStringLiteral("model"));
    o.apiKey = p.isSet(QStringLiteral("llm-token")) ? p.value(QStringLiteral("llm-token"))
                                                     : o.env.value(QStringLiteral("LOCAL_LLM_API_KEY"));
    o.templateDirs = {userTemplateDir()};
    return o;
}

StoryOutcome generateStory(const llm::StoryRequest& request, const llm::StoryServiceOptions& options, bool quiet)
{
    StoryOutcome out;
    llm::StoryService service(options);
    QTextStream& o = cli::out();
    QObject::connect(&service, &llm::StoryService::healthChecked, &service,
                     [&o](const telemetry::LlmHealthInfo&, const QString& line) { o << line << Qt::endl; });
    QObject::connect(&service, &llm::StoryService::message, &service, [&o](const QString& m) { o << m << Qt::endl; });
    QObject::connect(&service, &llm::StoryService::warning, &service,
                     [](const QString& w) { cli::err() << "WARNING: " << w << Qt::endl; });
    QObject::connect(&service, &llm::StoryService::stageStarted, &service, [&o, quiet](const QString& stage) {
        o << (quiet ? QString() : QStringLiteral("\n")) << "== " << stage << " ==" << Qt::endl;
    });
    if (!quiet)
        QObject::connect(&service, &llm::StoryService::token, &service, [&o](const QString&, const QString& text) {
            o << text;
            o.flush();
        });
    SignalWatcher signals;
    QObject::connect(&signals, &SignalWatcher::interrupted, &service, [&service](int count) {
        if (count > 1)
            ::exit(130);
        cli::err() << "\nInterrupt received: aborting the LLM request ..." << Qt::endl;
        service.cancel();
    });
    QEventLoop loop;
    QObject::connect(&service, &llm::StoryService::finished, &loop,
                     [&](llm::StoryService::Outcome outcome, const story::Story& s, const QJsonObject& llmJson,
                         const QJsonArray& prompts, const telemetry::LlmHealthInfo& health, const QString& error) {
                         out.outcome = outcome;
                         out.story = s;
                         out.llm = llmJson;
                         out.prompts = prompts;
                         out.health = health;
                         out.error = error;
                         loop.quit();
                     });
    QMetaObject::invokeMethod(&service, [&] { service.start(request); }, Qt::QueuedConnection);
    loop.exec();
    if (!quiet)
        o << Qt::endl;
    return out;
}

int storyCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Write a story with a local LLM (LM Studio, Ollama or llama.cpp) and save it as story.json.\n"
        "Exit codes: 0 story written, 1 the model could not produce a valid story (raw answers kept next to -o), "
        "2 bad input, 3 LLM server unreachable or no usable model, 130 interrupted."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("story"), QString());
    addStoryOptions(p);
    p.addOption({{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("Where to write story.json (default story.json)."), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("quiet"), QStringLiteral("Do not stream tokens to the console.")});
    p.addOption({QStringLiteral("sandbox"), QStringLiteral("Use the built-in LLM stand-in (no server needed).")});
    p.addOption({QStringLiteral("verbose"), QStringLiteral("Debug logging on stderr.")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect story: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    gd::log::init(QString(), p.isSet(QStringLiteral("verbose")));
    gd::log::applyEnvLevel();
    QStringList errors;
    const llm::StoryRequest request = storyRequestFrom(p, &errors);
    if (!p.isSet(QStringLiteral("idea")))
        errors << QStringLiteral("--idea TEXT is required");
    if (!errors.isEmpty()) {
        for (const QString& e : errors)
            cli::err() << "error: " << e << Qt::endl;
        return 2;
    }
    const QString output = QFileInfo(p.isSet(QStringLiteral("output")) ? p.value(QStringLiteral("output")) : QStringLiteral("story.json")).absoluteFilePath();
    llm::StoryServiceOptions options = storyServiceOptionsFrom(p);
    options.rawDir = output + QStringLiteral(".raw");
    std::unique_ptr<sandbox::SandboxLlmHost> llmHost;
    if (p.isSet(QStringLiteral("sandbox"))) {
        llmHost = std::make_unique<sandbox::SandboxLlmHost>();
        QString e;
        if (!llmHost->start(sandbox::SandboxLlmConfig{}, 0, &e)) {
            cli::err() << "error: cannot start the sandbox LLM: " << e << Qt::endl;
            return 3;
        }
        options.llmUrl = llmHost->url().toString();
    }
    const StoryOutcome r = generateStory(request, options, p.isSet(QStringLiteral("quiet")));
    if (llmHost)
        llmHost->stop();
    if (r.outcome != llm::StoryService::Outcome::Ok) {
        cli::err() << "error: " << r.error << Qt::endl;
        if (QDir(options.rawDir).exists())
            cli::err() << "The model's raw answers are in " << options.rawDir << Qt::endl;
        return int(r.outcome);
    }
    const Error e = AtomicFile::write(output, QJsonDocument(story::StoryLoader::toJson(r.story)).toJson(QJsonDocument::Indented));
    if (!e.isNull()) {
        cli::err() << "error: " << e.message << Qt::endl;
        return 1;
    }
    cli::out() << "Story written: " << output << " (" << r.story.scenes.size() << " scenes)" << Qt::endl;
    return 0;
}

int templatesCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("List the story prompt templates (built-in and your own in %1).").arg(userTemplateDir()));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("templates"), QString());
    if (!p.parse(args)) {
        cli::err() << "gemdirect templates: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    QStringList problems;
    const auto lib = llm::PromptLibrary::load({userTemplateDir()}, &problems);
    for (const auto& t : lib.templates())
        cli::out() << t.key() << "  genre=" << t.genre << "  tone=" << t.tone << "  context=" << t.contextLength
                   << "  tokens=" << t.tokenLimit << "  " << (t.sourcePath.startsWith(QLatin1Char(':')) ? QStringLiteral("built-in") : t.sourcePath)
                   << Qt::endl;
    for (const QString& pr : problems)
        cli::err() << "skipped: " << pr << Qt::endl;
    return 0;
}

} // namespace cli
