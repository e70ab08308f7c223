#pragma once

#include <QString>
#include <optional>

namespace gd::sandbox {

// Where a save node writes: fullFolder (absolute, created), basename, first free counter, subfolder relative
// to the output dir ("" or "a/b", always forward slashes as ComfyUI reports it in history).
struct SaveTarget
{
    QString fullFolder;
    QString basename;
    int counter = 1;
    QString subfolder;
};

// folder_paths.get_save_image_path semantics (comfyui-api.md §6.2) for the sandbox's save nodes.
class OutputNaming
{
public:
    // Substitutes %width% %height% %year% %month% %day% %hour% %minute% %second%; subfolder =
    // dirname(normpath(prefix)), basename = basename(...); refuses escapes (error text "Saving image outside
    // the output folder is not allowed"); counter = max existing "<basename>_<int>_..." + 1 (or 1); creates
    // the folder.
    static std::optional<SaveTarget> resolve(const QString& outputDir, const QString& prefix, int width,
                                             int height, QString* error);
    static QString imageFileName(const QString& basename, int counter); // "<basename>_00001_.png"
    // Same pattern with another extension (e.g. "mp4"): "<basename>_00001_.<ext>".
    static QString fileName(const QString& basename, int counter, const QString& extension);

    // VideoHelperSuite keeps its own counter: max N over files matching "<basename>_<N><non-digits>.<ext>" +
    // 1 (or 1), and names its outputs without the trailing underscore: "<basename>_00001.mp4".
    static int nextVhsCounter(const QString& fullFolder, const QString& basename);
    static QString vhsFileName(const QString& basename, int counter, const QString& extension);
};

} // namespace gd::sandbox
