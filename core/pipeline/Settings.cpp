#include "pipeline/Settings.h"

#include "comfy/ComfyClient.h"
#include "comfy/WorkflowProfileLoader.h"
#include "common/AppPaths.h"
#include "llm/StoryService.h"
#include "store/Database.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <QUrl>
#include <array>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace gd::pipeline {

namespace {

struct Entry
{
    Settings::Key key;
    const char* name;
    Settings::Kind kind;
    const char* label;
    const char* help;
};

using K = Settings::Key;
using Kind = Settings::Kind;

// The one key table. Defaults are computed in Settings::defaultValue() because several depend on the
// environment, the application's data directory or the queue preset.
const std::array<Entry, 23> kTable{{
    {K::LlmUrl, "llm/url", Kind::Url, "LLM server URL", "LM Studio, Ollama or llama.cpp server that writes stories."},
    {K::LlmModel, "llm/model", Kind::Text, "LLM model", "Model id to use; empty uses the model the server has loaded."},
    {K::LlmApiKey, "llm/apiKey", Kind::Secret, "LLM API key", "Sent as a bearer token; stored in the secrets file, never logged."},
    {K::ComfyUrl, "comfy/url", Kind::Url, "ComfyUI URL", "The ComfyUI server that renders scenes."},
    {K::ComfyOutputDir, "comfy/outputDir", Kind::Directory, "ComfyUI output directory",
     "ComfyUI's output folder when it runs on this machine (done markers watched on disk, frames hard-linked); "
     "empty when it runs elsewhere."},
    {K::ComfyToken, "comfy/token", Kind::Secret, "ComfyUI bearer token",
     "For a reverse proxy in front of ComfyUI; stored in the secrets file, never logged."},
    {K::WorkflowProfile, "workflow/profile", Kind::Profile, "Workflow profile", "The ComfyUI workflow each scene is rendered with."},
    {K::QueuePreset, "queue/preset", Kind::Choice, "Queue preset",
     "Standard waits long enough for slow video models; FastIteration gives up quickly while you experiment."},
    {K::SceneMaxWaitSeconds, "queue/SCENE_MAX_WAIT_SECONDS", Kind::Real, "Scene max wait (s)",
     "How long one attempt may wait for ComfyUI's history entry."},
    {K::SceneHistoryMaxAttempts, "queue/SCENE_HISTORY_MAX_ATTEMPTS", Kind::Integer, "History max attempts",
     "History requests per attempt; 0 = unbounded."},
    {K::SceneHistoryPollIntervalSeconds, "queue/SCENE_HISTORY_POLL_INTERVAL_SECONDS", Kind::Real,
     "History poll interval (s)", "Pause between two history requests."},
    {K::ScenePostExecutionTimeoutSeconds, "queue/SCENE_POST_EXECUTION_TIMEOUT_SECONDS", Kind::Real,
     "Post-execution timeout (s)", "Wait for the history entry after ComfyUI reported success."},
    {K::SceneRetryBudget, "queue/SCENE_RETRY_BUDGET", Kind::Integer, "Scene retry budget",
     "Requeues per scene; 1 = two attempts."},
    {K::SceneFrameFloor, "queue/SCENE_FRAME_FLOOR", Kind::Integer, "Frame floor",
     "Minimum frames per scene; 0 = the scene's expected frames, else 25."},
    {K::SceneDoneMarkerTimeoutSeconds, "queue/SCENE_DONE_MARKER_TIMEOUT_SECONDS", Kind::Real,
     "Done-marker timeout (s)", "Wait for the producer's done marker before checking frame stability."},
    {K::StabilityWindowSeconds, "queue/stabilityWindowSeconds", Kind::Real, "Stability window (s)",
     "The newest frame must be this old before frames are copied without a done marker."},
    {K::StabilityRetries, "queue/stabilityRetries", Kind::Integer, "Stability retries",
     "Stability checks before a forced copy."},
    {K::RunsRoot, "runs/root", Kind::Path, "Runs folder", "Where run directories are created."},
    {K::HistoryDb, "history/db", Kind::Path, "History database", "SQLite file that records runs, ratings and GPU samples."},
    {K::Theme, "ui/theme", Kind::Choice, "Theme", "System follows the desktop's palette."},
    {K::ComfyServers, "comfy/servers", Kind::UrlList, "ComfyUI servers (pool)",
     "Several ComfyUI servers to render on in parallel, as LABEL=URL entries separated by spaces; empty uses the "
     "one ComfyUI URL above."},
    {K::ComfyServerTokens, "comfy/serverTokens", Kind::Secret, "ComfyUI pool tokens",
     "Bearer tokens of the pool's servers as LABEL=TOKEN entries separated by spaces; stored in the secrets file, "
     "never logged."},
    {K::ComfyServerOutputDirs, "comfy/serverOutputDirs", Kind::FolderMap, "Pool servers' output folders",
     "ComfyUI's output folder of each pool server that runs on this machine (done markers watched on disk, frames "
     "hard-linked); leave a server's folder empty when it runs elsewhere."},
}};

const Entry& entry(Settings::Key key)
{
    for (const Entry& e : kTable) {
        if (e.key == key)
            return e;
    }
    return kTable.front();
}

// Queue knobs ↔ QueuePolicy members.
struct Knob
{
    Settings::Key key;
    double QueuePolicy::*real;
    int QueuePolicy::*whole;
};

const std::array<Knob, 9> kKnobs{{
    {K::SceneMaxWaitSeconds, &QueuePolicy::maxWaitSeconds, nullptr},
    {K::SceneHistoryMaxAttempts, nullptr, &QueuePolicy::historyMaxAttempts},
    {K::SceneHistoryPollIntervalSeconds, &QueuePolicy::pollIntervalSeconds, nullptr},
    {K::ScenePostExecutionTimeoutSeconds, &QueuePolicy::postExecutionTimeoutSeconds, nullptr},
    {K::SceneRetryBudget, nullptr, &QueuePolicy::sceneRetryBudget},
    {K::SceneFrameFloor, nullptr, &QueuePolicy::frameFloor},
    {K::SceneDoneMarkerTimeoutSeconds, &QueuePolicy::doneMarkerTimeoutSeconds, nullptr},
    {K::StabilityWindowSeconds, &QueuePolicy::stabilityWindowSeconds, nullptr},
    {K::StabilityRetries, nullptr, &QueuePolicy::stabilityRetries},
}};

const Knob* knob(Settings::Key key)
{
    for (const Knob& k : kKnobs) {
        if (k.key == key)
            return &k;
    }
    return nullptr;
}

bool isBlank(const QVariant& v)
{
    return !v.isValid() || v.isNull() || (v.canConvert<QString>() && v.toString().trimmed().isEmpty());
}

QString quoted(const QString& s)
{
    return QLatin1Char('"') + s + QLatin1Char('"');
}

} // namespace

Settings::Settings(const QString& filePath, QObject* parent)
    : QObject(parent), m_filePath(filePath), m_store(filePath, QSettings::IniFormat)
{
    qRegisterMetaType<gd::pipeline::Settings::Key>();
    for (const Entry& e : kTable) {
        if (e.kind == Kind::Secret)
            continue;
        const QString n = QLatin1String(e.name);
        if (m_store.contains(n) && !isBlank(m_store.value(n)))
            m_stored.insert(e.key, m_store.value(n));
    }
    loadSecrets();
}

Settings::~Settings() = default;

QList<Settings::Key> Settings::keys()
{
    QList<Key> out;
    for (const Entry& e : kTable)
        out << e.key;
    return out;
}

QString Settings::name(Key key)
{
    return QLatin1String(entry(key).name);
}

std::optional<Settings::Key> Settings::keyFromName(const QString& n)
{
    for (const Entry& e : kTable) {
        if (n == QLatin1String(e.name))
            return e.key;
    }
    return std::nullopt;
}

QString Settings::label(Key key)
{
    return QString::fromUtf8(entry(key).label);
}

QString Settings::help(Key key)
{
    return QString::fromUtf8(entry(key).help);
}

Settings::Kind Settings::kind(Key key)
{
    return entry(key).kind;
}

bool Settings::isSecret(Key key)
{
    return kind(key) == Kind::Secret;
}

bool Settings::isQueueKnob(Key key)
{
    return knob(key) != nullptr;
}

QStringList Settings::choices(Key key)
{
    if (key == Key::QueuePreset)
        return {QStringLiteral("standard"), QStringLiteral("fastIteration")};
    if (key == Key::Theme)
        return {QStringLiteral("system"), QStringLiteral("light"), QStringLiteral("dark")};
    return {};
}

QString Settings::secretsFilePath() const
{
    const QFileInfo info(m_filePath);
    return info.dir().filePath(info.completeBaseName() + QStringLiteral(".secrets.json"));
}

QVariant Settings::presetValue(Key key, const QString& preset)
{
    const Knob* k = knob(key);
    if (!k)
        return {};
    const QueuePolicy p = preset == QLatin1String("fastIteration") ? QueuePolicy::fastIteration() : QueuePolicy::standard();
    return k->real ? QVariant(p.*(k->real)) : QVariant(p.*(k->whole));
}

QVariant Settings::defaultValue(Key key) const
{
    if (isQueueKnob(key))
        return presetValue(key, string(Key::QueuePreset));
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    switch (key) {
    case Key::LlmUrl:
        return llm::StoryService::resolveProviderUrl(QString(), env);
    case Key::ComfyUrl:
        return env.value(QStringLiteral("LOCAL_COMFY_URL"), QStringLiteral("http://127.0.0.1:8188"));
    case Key::ComfyOutputDir:
        return env.value(QStringLiteral("LOCAL_COMFY_OUTPUT_DIR"));
    case Key::ComfyToken:
        return env.value(QStringLiteral("LOCAL_COMFY_TOKEN"));
    case Key::WorkflowProfile:
        return QStringLiteral("default");
    case Key::QueuePreset:
        return QStringLiteral("standard");
    case Key::RunsRoot:
        return AppPaths::defaultRunsRoot();
    case Key::HistoryDb:
        return store::Database::defaultPath();
    case Key::Theme:
        return QStringLiteral("system");
    default:
        return QString();
    }
}

QVariant Settings::effective(Key key, const Values& stored, const Values* overrides) const
{
    if (overrides && overrides->contains(key))
        return overrides->value(key);
    if (stored.contains(key))
        return stored.value(key);
    // A knob's default follows the preset of the same value set (a candidate preset counts).
    if (isQueueKnob(key))
        return presetValue(key, effective(Key::QueuePreset, stored, overrides).toString());
    return defaultValue(key);
}

QVariant Settings::value(Key key) const
{
    return effective(key, m_stored, &m_overrides);
}

QVariant Settings::storedValue(Key key) const
{
    return effective(key, m_stored, nullptr);
}

bool Settings::isExplicitlySet(Key key) const
{
    return m_stored.contains(key);
}

QString Settings::string(Key key) const
{
    return value(key).toString();
}

int Settings::integer(Key key) const
{
    bool ok = false;
    const double d = value(key).toString().trimmed().toDouble(&ok);
    if (ok && d == double(qint64(d)))
        return int(d);
    return defaultValue(key).toInt();
}

double Settings::real(Key key) const
{
    bool ok = false;
    const double d = value(key).toString().trimmed().toDouble(&ok);
    return ok ? d : defaultValue(key).toDouble();
}

Settings::Values Settings::effectiveAll() const
{
    Values all;
    for (const Entry& e : kTable)
        all.insert(e.key, value(e.key));
    return all;
}

void Settings::emitChanges(const Values& before)
{
    for (const Entry& e : kTable) {
        if (before.value(e.key) != value(e.key))
            Q_EMIT changed(e.key);
    }
}

Error Settings::set(Key key, const QVariant& v)
{
    const Values before = effectiveAll();
    const bool blank = isBlank(v);
    QVariant stored = v;
    if (!blank && (kind(key) == Kind::Text || kind(key) == Kind::Url || kind(key) == Kind::UrlList ||
                   kind(key) == Kind::FolderMap || kind(key) == Kind::Directory ||
                   kind(key) == Kind::Path || kind(key) == Kind::Profile || isQueueKnob(key)))
        stored = v.toString().trimmed();
    if (blank)
        m_stored.remove(key);
    else
        m_stored.insert(key, stored);
    Error error;
    if (isSecret(key)) {
        error = saveSecrets();
    } else {
        if (blank)
            m_store.remove(name(key));
        else
            m_store.setValue(name(key), stored);
        m_store.sync();
        if (m_store.status() != QSettings::NoError)
            error = {QStringLiteral("io"), QStringLiteral("cannot write the settings file %1").arg(m_filePath), {}};
    }
    emitChanges(before);
    return error;
}

void Settings::setSessionOverride(Key key, const QVariant& v)
{
    const Values before = effectiveAll();
    m_overrides.insert(key, v);
    emitChanges(before);
}

bool Settings::hasSessionOverride(Key key) const
{
    return m_overrides.contains(key);
}

void Settings::clearSessionOverrides()
{
    const Values before = effectiveAll();
    m_overrides.clear();
    emitChanges(before);
}

void Settings::loadSecrets()
{
    QFile f(secretsFilePath());
    if (!f.exists())
        return;
    // A secrets file someone made readable by others is tightened, not trusted as is.
    const auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    if ((f.permissions() & ~(ownerOnly | QFileDevice::ReadUser | QFileDevice::WriteUser)) != 0)
        f.setPermissions(ownerOnly);
    if (!f.open(QIODevice::ReadOnly))
        return;
    const QJsonObject o = QJsonDocument::fromJson(f.read(64 * 1024)).object();
    for (const Entry& e : kTable) {
        if (e.kind != Kind::Secret)
            continue;
        const QString v = o.value(QLatin1String(e.name)).toString();
        if (!v.isEmpty())
            m_stored.insert(e.key, v);
    }
}

Error Settings::saveSecrets() const
{
    QJsonObject o;
    for (const Entry& e : kTable) {
        if (e.kind == Kind::Secret && m_stored.contains(e.key))
            o.insert(QLatin1String(e.name), m_stored.value(e.key).toString());
    }
    const QString path = secretsFilePath();
    if (o.isEmpty()) {
        if (QFile::exists(path) && !QFile::remove(path))
            return {QStringLiteral("io"), QStringLiteral("cannot remove the secrets file %1").arg(path), {}};
        return {};
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    // The temporary file gets owner-only permissions before any secret is written into it, so the secrets
    // are never readable by others, not even for a moment.
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner))
        return {QStringLiteral("io"), QStringLiteral("cannot write the secrets file %1: %2").arg(path, file.errorString()), {}};
    const QByteArray bytes = QJsonDocument(o).toJson(QJsonDocument::Indented);
    if (file.write(bytes) != bytes.size()) {
        file.cancelWriting();
        return {QStringLiteral("io"), QStringLiteral("cannot write the secrets file %1").arg(path), {}};
    }
#ifdef Q_OS_UNIX
    file.flush();
    ::fsync(file.handle());
#endif
    if (!file.commit())
        return {QStringLiteral("io"), QStringLiteral("cannot write the secrets file %1: %2").arg(path, file.errorString()), {}};
    return {};
}

QueuePolicy Settings::policyFor(const Values& stored, const Values* overrides) const
{
    const QString preset = effective(Key::QueuePreset, stored, overrides).toString();
    QueuePolicy p = preset == QLatin1String("fastIteration") ? QueuePolicy::fastIteration() : QueuePolicy::standard();
    for (const Knob& k : kKnobs) {
        const bool set = (overrides && overrides->contains(k.key)) || stored.contains(k.key);
        if (!set)
            continue;
        bool ok = false;
        const double d = effective(k.key, stored, overrides).toString().trimmed().toDouble(&ok);
        if (!ok)
            continue;
        if (k.real)
            p.*(k.real) = d;
        else if (d == double(qint64(d)))
            p.*(k.whole) = int(d);
    }
    return p;
}

QueuePolicy Settings::queuePolicy() const
{
    return policyFor(m_stored, &m_overrides);
}

QueuePolicy Settings::queuePolicy(const QString& preset) const
{
    Values overrides = m_overrides;
    overrides.insert(Key::QueuePreset, preset);
    return policyFor(m_stored, &overrides);
}

QStringList Settings::profileSearchDirs()
{
    return {AppPaths::userProfileDir()};
}

HealthOptions Settings::healthOptions() const
{
    HealthOptions o;
    o.llmUrl = string(Key::LlmUrl);
    o.llmModel = string(Key::LlmModel);
    o.llmApiKey = string(Key::LlmApiKey);
    o.comfyUrl = comfy::ComfyClient::normaliseUrl(string(Key::ComfyUrl));
    o.comfyToken = string(Key::ComfyToken);
    o.workflow = string(Key::WorkflowProfile);
    o.profileSearchDirs = profileSearchDirs();
    o.runsRoot = string(Key::RunsRoot);
    return o;
}

QVector<Settings::Problem> Settings::validate() const
{
    return check(m_stored, &m_overrides);
}

QVector<Settings::Problem> Settings::validate(const QHash<Key, QVariant>& candidate) const
{
    Values stored = m_stored;
    for (auto it = candidate.constBegin(); it != candidate.constEnd(); ++it) {
        if (isBlank(it.value()))
            stored.remove(it.key());
        else
            stored.insert(it.key(), it.value());
    }
    return check(stored, nullptr);
}

QVector<Settings::Problem> Settings::check(const Values& stored, const Values* overrides) const
{
    QVector<Problem> out;
    for (const Entry& e : kTable) {
        if (auto p = checkKey(e.key, stored, overrides))
            out << *p;
    }
    return out;
}

std::optional<Settings::Problem> Settings::checkKey(Key key, const Values& stored, const Values* overrides) const
{
    const QString text = effective(key, stored, overrides).toString().trimmed();
    const QString what = label(key);
    auto problem = [key](const QString& message) { return std::optional<Problem>(Problem{key, message}); };
    switch (kind(key)) {
    case Kind::Url: {
        if (text.isEmpty())
            return problem(QStringLiteral("%1 is required (for example http://127.0.0.1:%2).")
                               .arg(what, key == Key::LlmUrl ? QStringLiteral("1234") : QStringLiteral("8188")));
        const QUrl url(text, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")))
            return problem(QStringLiteral("%1 %2 must start with http:// or https://.").arg(what, quoted(text)));
        if (url.host().isEmpty())
            return problem(QStringLiteral("%1 %2 names no server (expected http://HOST:PORT).").arg(what, quoted(text)));
        return std::nullopt;
    }
    case Kind::Secret:
        if (text.contains(QLatin1Char('\n')) || text.contains(QLatin1Char('\r')))
            return problem(QStringLiteral("%1 must be a single line.").arg(what));
        return std::nullopt;
    case Kind::Directory: {
        if (text.isEmpty())
            return std::nullopt;
        const QFileInfo info(text);
        if (!info.exists())
            return problem(QStringLiteral("%1 %2 does not exist. Leave it empty when ComfyUI runs on another machine.")
                               .arg(what, quoted(text)));
        if (!info.isDir())
            return problem(QStringLiteral("%1 %2 is a file, not a folder.").arg(what, quoted(text)));
        return std::nullopt;
    }
    case Kind::Path: {
        if (text.isEmpty())
            return problem(QStringLiteral("%1 is required.").arg(what));
        if (!QDir::isAbsolutePath(text))
            return problem(QStringLiteral("%1 %2 must be an absolute path.").arg(what, quoted(text)));
        const QFileInfo info(text);
        if (key == Key::RunsRoot && info.exists() && !info.isDir())
            return problem(QStringLiteral("%1 %2 is a file, not a folder.").arg(what, quoted(text)));
        if (key == Key::HistoryDb && info.isDir())
            return problem(QStringLiteral("%1 %2 is a folder; name the database file inside it.").arg(what, quoted(text)));
        return std::nullopt;
    }
    case Kind::Choice:
        if (!choices(key).contains(text))
            return problem(QStringLiteral("%1 %2 is not one of: %3.").arg(what, quoted(text), choices(key).join(QStringLiteral(", "))));
        return std::nullopt;
    case Kind::Integer:
    case Kind::Real: {
        bool ok = false;
        const double d = text.toDouble(&ok);
        if (!ok)
            return problem(QStringLiteral("%1: %2 is not a number.").arg(what, quoted(text)));
        if (kind(key) == Kind::Integer && d != double(qint64(d)))
            return problem(QStringLiteral("%1: %2 must be a whole number.").arg(what, quoted(text)));
        // The range rules are QueuePolicy's own: apply this one knob to its preset and ask the policy.
        Values only;
        only.insert(Key::QueuePreset, effective(Key::QueuePreset, stored, overrides));
        only.insert(key, text);
        const QStringList errors = policyFor(only, nullptr).validate();
        if (!errors.isEmpty())
            return problem(QStringLiteral("%1: %2").arg(what, errors.join(QStringLiteral("; "))));
        return std::nullopt;
    }
    case Kind::Profile: {
        if (text.isEmpty())
            return problem(QStringLiteral("%1 is required (the built-in one is \"default\").").arg(what));
        QStringList errors;
        if (!comfy::WorkflowProfileLoader::resolve(text, profileSearchDirs(), &errors))
            return problem(QStringLiteral("%1 %2 cannot be used: %3").arg(what, quoted(text), errors.join(QStringLiteral("; "))));
        return std::nullopt;
    }
    case Kind::UrlList: {
        QStringList bad;
        for (const QString& entry : listEntries(text)) {
            QString e;
            if (!BackendSpec::parse(entry, &e))
                bad << e;
        }
        if (!bad.isEmpty())
            return problem(QStringLiteral("%1: %2.").arg(what, bad.join(QStringLiteral("; "))));
        return std::nullopt;
    }
    case Kind::FolderMap: {
        // Checked against the servers of the same value set (the dialog's unsaved server list counts).
        const QStringList labels = serverLabels(effective(Key::ComfyServers, stored, overrides).toString());
        QStringList bad;
        for (const auto& [server, folder] : folderEntries(text)) {
            if (server.isEmpty()) {
                bad << QStringLiteral("%1 is not SERVER=FOLDER").arg(quoted(folder));
                continue;
            }
            const QString whose = QStringLiteral("server %1").arg(quoted(server));
            if (!labels.contains(server)) {
                bad << QStringLiteral("%1 is not one of the pool's servers (%2)")
                           .arg(whose, labels.isEmpty() ? QStringLiteral("none configured")
                                                        : labels.join(QStringLiteral(", ")));
                continue;
            }
            const QFileInfo info(folder);
            if (!QDir::isAbsolutePath(folder))
                bad << QStringLiteral("%1: %2 must be an absolute path").arg(whose, quoted(folder));
            else if (!info.exists())
                bad << QStringLiteral("%1: %2 does not exist (leave it empty when that server runs on another "
                                      "machine)")
                           .arg(whose, quoted(folder));
            else if (!info.isDir())
                bad << QStringLiteral("%1: %2 is a file, not a folder").arg(whose, quoted(folder));
        }
        if (!bad.isEmpty())
            return problem(QStringLiteral("%1: %2.").arg(what, bad.join(QStringLiteral("; "))));
        return std::nullopt;
    }
    case Kind::Text:
        return std::nullopt;
    }
    return std::nullopt;
}

QStringList Settings::serverLabels(const QString& serversText)
{
    QList<BackendSpec> specs;
    for (const QString& entry : listEntries(serversText)) {
        QString e;
        if (auto spec = BackendSpec::parse(entry, &e))
            specs << *spec;
    }
    BackendSpec::assignLabels(specs);
    QStringList labels;
    for (const BackendSpec& s : std::as_const(specs))
        labels << s.label;
    return labels;
}

QList<QPair<QString, QString>> Settings::folderEntries(const QString& text)
{
    QList<QPair<QString, QString>> out;
    for (const QString& raw : text.split(QLatin1Char('\n'))) {
        const QString line = raw.trimmed();
        if (line.isEmpty())
            continue;
        // The label ends at the first '=' (labels cannot hold one; a folder may).
        const int eq = line.indexOf(QLatin1Char('='));
        if (eq < 0) {
            out.append({QString(), line});
            continue;
        }
        const QString folder = line.mid(eq + 1).trimmed();
        if (eq > 0 && folder.isEmpty())
            continue;
        out.append({line.left(eq).trimmed(), folder});
    }
    return out;
}

QString Settings::folderMapText(const QList<QPair<QString, QString>>& entries)
{
    QStringList lines;
    for (const auto& [label, folder] : entries)
        if (!label.isEmpty() && !folder.trimmed().isEmpty())
            lines << label + QLatin1Char('=') + folder.trimmed();
    return lines.join(QLatin1Char('\n'));
}

QStringList Settings::listEntries(const QString& text)
{
    QStringList out;
    for (const QString& part : text.split(QRegularExpression(QStringLiteral("[\\s,]+")), Qt::SkipEmptyParts))
        out << part;
    return out;
}

QList<BackendSpec> Settings::backends() const
{
    const QStringList entries = listEntries(string(Key::ComfyServers));
    if (entries.isEmpty())
        return {BackendSpec{comfy::ComfyClient::normaliseUrl(string(Key::ComfyUrl)), QString(),
                            string(Key::ComfyOutputDir), string(Key::ComfyToken)}};
    QList<BackendSpec> specs;
    for (const QString& entry : entries) {
        QString e;
        if (auto spec = BackendSpec::parse(entry, &e))
            specs << *spec;
    }
    BackendSpec::assignLabels(specs);
    // Tokens are "LABEL=TOKEN": the label is what precedes the first '=' (a token may contain '=').
    for (const QString& t : listEntries(string(Key::ComfyServerTokens))) {
        const int eq = t.indexOf(QLatin1Char('='));
        if (eq <= 0)
            continue;
        for (BackendSpec& spec : specs)
            if (spec.label == t.left(eq))
                spec.bearerToken = t.mid(eq + 1);
    }
    // Output folders are "LABEL=FOLDER" lines; a server without one is followed over HTTP only.
    for (const auto& [label, folder] : folderEntries(string(Key::ComfyServerOutputDirs)))
        for (BackendSpec& spec : specs)
            if (!label.isEmpty() && spec.label == label)
                spec.outputDir = folder;
    return specs;
}

} // namespace gd::pipeline
