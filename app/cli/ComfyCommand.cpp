#include "ComfyCommand.h"

#include "CliCommon.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

namespace {

const QString kPackage = QStringLiteral("gemdirect_nodes");

// Copies the package out of the resources into `dir` (which must not exist yet).
bool extractPackage(const QString& dir, QString* error)
{
    QDirIterator it(QStringLiteral(":/comfyui/") + kPackage, QDir::Files, QDirIterator::Subdirectories);
    int files = 0;
    while (it.hasNext()) {
        const QString src = it.next();
        const QString rel = src.mid(QStringLiteral(":/comfyui/").size() + kPackage.size() + 1);
        const QString dst = QDir(dir).filePath(rel);
        QDir().mkpath(QFileInfo(dst).absolutePath());
        if (!QFile::copy(src, dst)) {
            *error = QStringLiteral("cannot write %1").arg(dst);
            return false;
        }
        QFile::setPermissions(dst, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther);
        ++files;
    }
    if (files == 0) {
        *error = QStringLiteral("the node package is not bundled in this build");
        return false;
    }
    return true;
}

} // namespace

int comfyCommand(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "ComfyUI helpers.\n  gemdirect comfy install-node --comfy-dir PATH\n"
        "Installs the GemDirectSaveFrames node (frames + atomic done marker) into PATH/custom_nodes/gemdirect_nodes. "
        "An existing copy is kept as gemdirect_nodes.bak-<timestamp>.disabled (ComfyUI skips *.disabled folders)."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("comfy"), QString());
    p.addPositionalArgument(QStringLiteral("install-node"), QStringLiteral("The action."));
    p.addOption({QStringLiteral("comfy-dir"), QStringLiteral("The ComfyUI folder (the one containing custom_nodes/)."), QStringLiteral("PATH")});
    if (!p.parse(args)) {
        cli::err() << "gemdirect comfy: " << p.errorText() << Qt::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    if (p.positionalArguments().value(1) != QLatin1String("install-node") || !p.isSet(QStringLiteral("comfy-dir"))) {
        cli::err() << "usage: gemdirect comfy install-node --comfy-dir PATH" << Qt::endl;
        return 2;
    }
    const QDir comfy(p.value(QStringLiteral("comfy-dir")));
    const QString customNodes = comfy.filePath(QStringLiteral("custom_nodes"));
    if (!QFileInfo(customNodes).isDir()) {
        cli::err() << "error: " << comfy.absolutePath()
                   << " does not look like a ComfyUI folder (no custom_nodes/ in it). Pass the folder that contains main.py."
                   << Qt::endl;
        return 2;
    }
    const QString target = QDir(customNodes).filePath(kPackage);
    // Build the new copy beside the target first, so a failure leaves the installed one untouched.
    const QString staging = target + QStringLiteral(".installing.disabled");
    QDir(staging).removeRecursively();
    QString error;
    if (!extractPackage(staging, &error)) {
        QDir(staging).removeRecursively();
        cli::err() << "error: " << error << Qt::endl;
        return 1;
    }
    QString backup;
    if (QFileInfo::exists(target)) {
        backup = target + QStringLiteral(".bak-") + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))
                 + QStringLiteral(".disabled");
        if (!QDir().rename(target, backup)) {
            QDir(staging).removeRecursively();
            cli::err() << "error: cannot move the existing " << target << " aside" << Qt::endl;
            return 1;
        }
    }
    if (!QDir().rename(staging, target)) {
        cli::err() << "error: cannot move the new package into " << target << Qt::endl;
        return 1;
    }
    cli::out() << "Installed the GemDirectSaveFrames node into " << QDir(target).absolutePath() << Qt::endl;
    if (!backup.isEmpty())
        cli::out() << "The previous copy is kept (disabled) as " << QDir(backup).absolutePath() << Qt::endl;
    cli::out() << "Restart ComfyUI so it loads the node; the next `gemdirect run` finds it through /object_info and waits "
                  "for done markers instead of the stability window."
               << Qt::endl;
    return 0;
}
