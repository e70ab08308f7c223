#pragma once

// Run directories for the store tests: a real sandbox run (tests/data/store/run-lighthouse, which
// the validator passes) copied under a new RunId, with optional changes to the artifact.

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <functional>

namespace storetest {

inline QString fixtureDir()
{
    return QStringLiteral(GD_TEST_DATA_DIR "/store/run-lighthouse");
}

inline QString legacyDir()
{
    return QStringLiteral(GD_TEST_DATA_DIR "/legacy-run");
}

inline QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

inline QJsonObject readJson(const QString& path)
{
    return QJsonDocument::fromJson(readFile(path)).object();
}

// Copies the fixture to <root>/<runId>; the artifact gets this RunId, RunDir and start time and
// then `edit` applied. run-summary.txt keeps the fixture's first line only when runId is the
// fixture's, which the validator tests rely on. Returns the new directory ("" on failure).
inline QString makeRun(const QString& root, const QString& runId, const QDateTime& startedUtc,
                       const std::function<void(QJsonObject&)>& edit = {})
{
    const QString dir = QDir(root).filePath(runId);
    if (!QDir().mkpath(dir))
        return {};
    QJsonObject a = readJson(fixtureDir() + QStringLiteral("/artifact-metadata.json"));
    a.insert(QStringLiteral("RunId"), runId);
    a.insert(QStringLiteral("RunDir"), dir);
    a.insert(QStringLiteral("Timestamp"), startedUtc.toUTC().toString(Qt::ISODateWithMs));
    if (edit)
        edit(a);
    QByteArray summary = readFile(fixtureDir() + QStringLiteral("/run-summary.txt"));
    const int firstLineEnd = summary.indexOf('\n');
    const QByteArray header = QByteArray("E2E Story-to-Video Run: ").append(runId.toUtf8());
    summary.replace(0, firstLineEnd, header);
    if (!writeFile(dir + QStringLiteral("/artifact-metadata.json"),
                   QJsonDocument(a).toJson(QJsonDocument::Indented)) ||
        !writeFile(dir + QStringLiteral("/run-summary.txt"), summary))
        return {};
    return dir;
}

// Sets the story attributes that feedback is grouped by.
inline std::function<void(QJsonObject&)> withStory(const QString& genre, const QString& templateVersion,
                                                   const QString& model, const QString& workflow)
{
    return [=](QJsonObject& a) {
        QJsonObject story = a.value(QStringLiteral("Story")).toObject();
        story.insert(QStringLiteral("Genre"), genre);
        story.insert(QStringLiteral("TemplateVersion"), templateVersion);
        story.insert(QStringLiteral("LLM"), QJsonObject{{QStringLiteral("Model"), model}});
        a.insert(QStringLiteral("Story"), story);
        a.insert(QStringLiteral("Workflow"), workflow);
    };
}

} // namespace storetest
