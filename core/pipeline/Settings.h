#pragma once

#include "common/Error.h"
#include "pipeline/BackendSpec.h"
#include "pipeline/HealthProbe.h"
#include "pipeline/QueuePolicy.h"

#include <QHash>
#include <QObject>
#include <QSettings>
#include <QStringList>
#include <QVariant>
#include <QVector>
#include <optional>

namespace gd::pipeline {

// The desktop app's settings: one key table (key, default, kind) with typed access and a change signal.
// Secrets (LLM API key, ComfyUI bearer token) live in a separate file next to the settings file, created
// 0600, and are never logged. Session overrides (e.g. --sandbox URLs) change what the session uses without
// touching what the operator saved. Lives on the GUI thread; read-only use from workers goes through copies
// (queuePolicy(), healthOptions()).
class Settings : public QObject
{
    Q_OBJECT
public:
    enum class Key
    {
        LlmUrl,
        LlmModel,
        LlmApiKey,
        ComfyUrl,
        ComfyOutputDir,
        ComfyToken,
        WorkflowProfile,
        QueuePreset,
        SceneMaxWaitSeconds,
        SceneHistoryMaxAttempts,
        SceneHistoryPollIntervalSeconds,
        ScenePostExecutionTimeoutSeconds,
        SceneRetryBudget,
        SceneFrameFloor,
        SceneDoneMarkerTimeoutSeconds,
        StabilityWindowSeconds,
        StabilityRetries,
        RunsRoot,
        HistoryDb,
        Theme,
        ComfyServers,      // the backend pool: LABEL=URL entries; empty = the one ComfyUrl server
        ComfyServerTokens, // LABEL=TOKEN entries for the pool's servers (secret)
        ComfyServerOutputDirs, // LABEL=FOLDER lines: the local output folder of each pool server
    };
    Q_ENUM(Key)

    // How a value is edited and checked.
    enum class Kind
    {
        Text,
        Url,
        Secret,
        Directory, // an existing directory, or empty
        Path,      // a path that may not exist yet
        Choice,
        Integer,   // a queue knob: empty means "the preset's value"
        Real,      // a queue knob: empty means "the preset's value"
        Profile,   // a workflow profile name or path
        UrlList,   // entries "LABEL=URL" or "URL", separated by spaces, commas or new lines
        FolderMap, // lines "LABEL=FOLDER" (a folder may contain spaces): each an existing directory
    };

    struct Problem
    {
        Key key;
        QString message;
    };

    explicit Settings(const QString& filePath, QObject* parent = nullptr);
    ~Settings() override;

    // The key table.
    static QList<Key> keys();
    static QString name(Key key);  // "llm/url", "queue/SCENE_MAX_WAIT_SECONDS", ...
    static std::optional<Key> keyFromName(const QString& name);
    static QString label(Key key); // "LLM server URL"
    static QString help(Key key);  // one sentence for tooltips
    static Kind kind(Key key);
    static bool isSecret(Key key);
    static bool isQueueKnob(Key key);
    static QStringList choices(Key key); // queue/preset: standard, fastIteration; ui/theme: system, light, dark

    // What preset ("standard" | "fastIteration") gives a queue knob; invalid for other keys.
    static QVariant presetValue(Key knob, const QString& preset);
    // Default of a key; for queue knobs, the current preset's value.
    QVariant defaultValue(Key key) const;

    QString filePath() const { return m_filePath; }
    QString secretsFilePath() const;

    // What the session uses: a session override, else the saved value, else the default.
    QVariant value(Key key) const;
    // The saved value (or the default), ignoring session overrides: what the settings dialog edits.
    QVariant storedValue(Key key) const;
    bool isExplicitlySet(Key key) const;
    QString string(Key key) const;
    int integer(Key key) const;   // a knob that does not parse falls back to its default
    double real(Key key) const;

    // Saves a value (an invalid QVariant or empty text returns the key to its default) and emits changed()
    // for every key whose effective value changed. An error names the file that could not be written.
    Error set(Key key, const QVariant& value);

    void setSessionOverride(Key key, const QVariant& value);
    bool hasSessionOverride(Key key) const;
    void clearSessionOverrides();

    // Problems of the effective values, in words an operator can act on; empty when everything is usable.
    QVector<Problem> validate() const;
    // Problems of the saved values with `candidate` replacing some of them (the dialog's unsaved edits).
    QVector<Problem> validate(const QHash<Key, QVariant>& candidate) const;

    // The preset (queue/preset) with the explicitly set knobs applied. Environment variables are not
    // applied here: a caller that honours them calls applyEnvironment() on the result.
    QueuePolicy queuePolicy() const;
    // The same for a named preset ("standard" | "fastIteration"), whatever the saved preset is.
    QueuePolicy queuePolicy(const QString& preset) const;
    // The backend pool's servers: comfy/servers with the comfy/serverTokens tokens, or, when the
    // list is empty, the one server of comfy/url, comfy/outputDir and comfy/token. Entries that do
    // not parse are left out (validate() names them).
    QList<BackendSpec> backends() const;
    static QStringList listEntries(const QString& text);
    // The labels of a comfy/servers text exactly as backends() assigns them (host:port when none).
    static QStringList serverLabels(const QString& serversText);
    // A FolderMap text as (label, folder) pairs in order; lines without '=' come back with an empty
    // label (validate() names them), blank lines and lines with an empty folder are left out.
    static QList<QPair<QString, QString>> folderEntries(const QString& text);
    static QString folderMapText(const QList<QPair<QString, QString>>& entries);
    // LLM, ComfyUI, workflow and runs root as the health probe needs them.
    HealthOptions healthOptions() const;
    // Where workflow profile names are looked up before the built-ins.
    static QStringList profileSearchDirs();

Q_SIGNALS:
    void changed(gd::pipeline::Settings::Key key);

private:
    using Values = QHash<Key, QVariant>;
    QVariant effective(Key key, const Values& stored, const Values* overrides) const;
    QVector<Problem> check(const Values& stored, const Values* overrides) const;
    std::optional<Problem> checkKey(Key key, const Values& stored, const Values* overrides) const;
    QueuePolicy policyFor(const Values& stored, const Values* overrides) const;
    Values effectiveAll() const;
    void emitChanges(const Values& before);
    void loadSecrets();
    Error saveSecrets() const;

    QString m_filePath;
    QSettings m_store;
    Values m_stored;    // explicitly saved values only
    Values m_overrides; // this session only
};

} // namespace gd::pipeline

Q_DECLARE_METATYPE(gd::pipeline::Settings::Key)
