#pragma once

#include "llm/PromptLibrary.h"
#include "llm/StoryGenerator.h"
#include "story/Story.h"
#include "telemetry/RunModel.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QProcessEnvironment>

namespace gd::llm {

class LlmClient;
class LlmHealthCheck;

// Where and how to reach the LLM for one story.
struct StoryServiceOptions
{
    QString llmUrl;            // --llm-url; empty = LOCAL_STORY_PROVIDER_URL, else LM Studio's default
    QString model;             // --model; empty = the loaded LLM
    QString apiKey;
    QStringList templateDirs;  // operators' own templates
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    QString rawDir;            // every raw answer is saved here (diagnosis)
    // The desktop app: raw answers are written through this writer, off the GUI thread (not owned;
    // it must outlive the service). Null = written before the next stage starts.
    DurableWriter* rawWriter = nullptr;
    int firstTokenTimeoutMs = 300000;
    int inactivityTimeoutMs = 90000;
};

// From an idea to a Story, as the CLI and the GUI both need it: the contract's LLM health check,
// server detection and model choice, then the staged StoryGenerator streaming tokens. finished()
// comes exactly once with an outcome that maps onto the run exit codes.
class StoryService : public QObject
{
    Q_OBJECT
public:
    enum class Outcome : int { Ok = 0, GenerationFailed = 1, BadInput = 2, LlmUnavailable = 3, Cancelled = 130 };
    Q_ENUM(Outcome)

    explicit StoryService(StoryServiceOptions options, QObject* parent = nullptr);
    ~StoryService() override;

    void start(const StoryRequest& request);
    // The same health check and model choice, then StoryGenerator::regenerateScene(): finished()
    // carries `story` with only that scene's prompt and negativePrompt replaced. request.idea and
    // sceneCount are not used; model, templateKey, seed and sampling are.
    void regenerateScene(const gd::story::Story& story, const QString& sceneId, const StoryRequest& request);
    void cancel();

    // --llm-url > LOCAL_STORY_PROVIDER_URL > http://127.0.0.1:1234 (LM Studio's default port).
    static QString resolveProviderUrl(const QString& configured, const QProcessEnvironment& env);

Q_SIGNALS:
    void healthChecked(const gd::telemetry::LlmHealthInfo& info, const QString& summaryLine);
    void message(const QString& text);
    void stageStarted(const QString& stage);
    void token(const QString& stage, const QString& text);
    void warning(const QString& text);
    void finished(gd::llm::StoryService::Outcome outcome, const gd::story::Story& story, const QJsonObject& llmTelemetry,
                  const QJsonArray& prompts, const gd::telemetry::LlmHealthInfo& health, const QString& error);

private:
    void connectToServer();
    void afterHealthCheck();
    void generate(const QString& model);
    void finish(Outcome outcome, const QString& error);

    StoryServiceOptions m_opt;
    StoryRequest m_request;
    story::Story m_base;  // regenerateScene(): the story whose scene is rewritten
    QString m_sceneId;    // regenerateScene(): that scene; empty for a whole story
    PromptLibrary m_library;
    LlmClient* m_client = nullptr;
    QPointer<LlmHealthCheck> m_health;
    QPointer<StoryGenerator> m_generator;
    telemetry::LlmHealthInfo m_healthInfo;
    bool m_finished = false;
    bool m_cancelled = false;
};

} // namespace gd::llm
