#pragma once

#include "llm/ChatBackend.h"
#include "llm/LlmTypes.h"
#include "llm/PromptLibrary.h"
#include "story/Story.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>
#include <optional>

namespace gd {
class DurableWriter;
}

namespace gd::llm {

// What the operator asked for: the idea, the genre/template and the sampling knobs.
struct StoryRequest
{
    QString idea;
    QString genre;
    int sceneCount = 5;
    QString templateKey; // "story-drama" or "story-drama@1.0"; empty = by genre, else the first built-in
    std::optional<qint64> seed;
    QString model;
    double temperature = 0.7;
    double topP = 0.9;
    // The "shots" stage (one per scene, after the scene list: 1-4 shots with looks and locations)
    // and the bible's reference-sheet prompts and locations. Skipped with a warning when the
    // template has no shots section (templates before 2.0). CLI: `gemdirect story --no-shots`.
    bool shots = true;
};

// Turns an idea into a Story in streamed, schema-checked stages (bible, scene list, the shots of each
// scene unless StoryRequest::shots is off, one render prompt per scene), with one corrective retry
// per stage and no silent fallback story.
class StoryGenerator : public QObject
{
    Q_OBJECT
public:
    StoryGenerator(ChatBackend* backend, PromptLibrary library, QObject* parent = nullptr);
    ~StoryGenerator() override;

    void start(const StoryRequest& request);
    // Regenerates ONE scene's render prompt and negative prompt through the same prompt stage as
    // start() (template prompt section, schema check, one corrective retry), with the story's
    // bible and scene list as the context. The template is request.templateKey, else the story's
    // own templateId@templateVersion (newest of that id when the version is gone), else by genre.
    // Without request.seed a seed is drawn, so that a server that answers identical requests
    // identically still gives a new variant; the seed used is in the telemetry. finished() carries
    // `story` with only that scene's prompt and negativePrompt replaced.
    void regenerateScene(const gd::story::Story& story, const QString& sceneId, const StoryRequest& request);
    // Cancels the running chat; finished(false, ..., "cancelled") follows once.
    void cancel();
    bool isRunning() const;
    // Kind of the transport error that ended the last run (unreachable, no_model, ...), else empty.
    QString lastErrorKind() const { return m_lastErrorKind; }

    QString rawDir;      // when set, every raw answer is saved there as <stage>-<n>.txt (for diagnosis)
    // When set (not owned), the raw answers are written through it, off this thread (the desktop
    // app); a failure still comes back as warning(). Null = written before the next stage starts.
    DurableWriter* rawWriter = nullptr;
    QString providerUrl; // recorded as Story.LLM.ProviderUrl; the backend interface does not know it

    // Token estimate used when the server gives no usage: ~4 characters per token.
    static int estimateTokens(const QString& text);
    // JSON schemas sent for each stage (public so tests and the sandbox can reuse them).
    static QJsonObject bibleSchema();
    // withReferences: every character also needs a referencePrompt (looks optional) and the bible
    // needs locations (the shots stage and the storyboard's reference sheets use them).
    static QJsonObject bibleSchema(bool withReferences);
    // One scene's shot list ("shot_list"): 1..maxShots shots; visibleCharacters names from
    // `characterNames` (the scene's cast; none allowed when empty), looks from `lookIds` (every
    // look of that cast: that a look belongs to its character is checked after the schema),
    // location one of `locationNames` or "".
    static QJsonObject shotsSchema(const QStringList& characterNames, const QStringList& lookIds,
                                   const QStringList& locationNames, int maxShots = kMaxShotsPerScene);
    static QJsonObject scenesSchema(int sceneCount, const QStringList& characterNames);
    static QJsonObject promptSchema();
    static QStringList themeVocabulary();
    static constexpr int kMinPromptTokens = 150;
    static constexpr int kMaxPromptTokens = 500;
    static constexpr int kMaxSceneCount = 50;
    static constexpr int kMaxShotsPerScene = 4;

Q_SIGNALS:
    void stageStarted(const QString& stage); // "bible" | "scenes" | "shots:scene-001" ... | "prompts:scene-003" ... (regeneration: only the prompt stage)
    void token(const QString& stage, const QString& text);
    void warning(const QString& text);
    void finished(bool ok, const gd::story::Story& story, const QJsonObject& llmTelemetry /* Story.LLM */,
                  const QJsonArray& prompts /* Story.Prompts[]: {SceneId, TokenCount} */,
                  const QString& error);

private:
    struct Run;
    std::optional<PromptTemplate> resolveTemplate(const StoryRequest& request, const gd::story::Story* story,
                                                  QString* error);
    void failEarly(const QString& error);
    void startStage();
    void sendAttempt();
    void onJobFinished(const gd::llm::ChatResult& result);
    QStringList checkAnswer(const QJsonValue& value) const;
    void acceptAnswer(const QJsonValue& value);
    void rejectAnswer(const QString& problem, bool correctable, bool raiseTokens);
    void completeStory();
    void completeRegeneration();
    void finish(bool ok, const QString& error);
    void saveRaw(const ChatResult& result);
    QJsonObject telemetry(const QString& status) const;

    ChatBackend* m_backend;
    PromptLibrary m_library;
    QPointer<ChatJob> m_job;
    std::unique_ptr<Run> m_run;
    QString m_lastErrorKind;
};

} // namespace gd::llm
