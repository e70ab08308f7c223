#pragma once

// Hand-made storyboard images for the vision judge tests (sandbox LLM and the app's keyframe judge):
// keyframes painted the way the sandbox keyframe renderer paints them — a desaturated sky and ground, one
// saturated figure per character, the graph as tEXt "prompt" like SaveImage — and reference sheets whose
// dominant colour is the character's. Header-only so the per-file test executables stay independent.

#include "sandbox/PngText.h"

#include <QBuffer>
#include <QColor>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRect>
#include <QVector>

namespace sbimages {

struct Figure
{
    QColor colour;
    QRect rect;
};

inline const QColor kOrange(230, 120, 40);
inline const QColor kTeal(30, 150, 160);
inline const QColor kGreen(60, 170, 70);

inline QByteArray pngOf(const QImage& image)
{
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return png;
}

// 320x180; `prompt` empty: no tEXt chunk; `barRows`: black letterbox bars at the top and the bottom.
inline QByteArray keyframePng(const QVector<Figure>& figures, const QString& prompt, int horizonPercent = 60,
                              int barRows = 0)
{
    QImage image(320, 180, QImage::Format_RGB32);
    const int horizon = 180 * horizonPercent / 100;
    for (int y = 0; y < 180; ++y)
        for (int x = 0; x < 320; ++x)
            image.setPixel(x, y, y < horizon ? qRgb(128, 132, 140) : qRgb(80, 82, 88));
    for (const Figure& f : figures)
        for (int y = f.rect.top(); y <= f.rect.bottom(); ++y)
            for (int x = f.rect.left(); x <= f.rect.right(); ++x)
                image.setPixel(x, y, f.colour.rgb());
    for (int y = 0; y < barRows; ++y)
        for (int x = 0; x < 320; ++x) {
            image.setPixel(x, y, qRgb(0, 0, 0));
            image.setPixel(x, 179 - y, qRgb(0, 0, 0));
        }
    const QByteArray png = pngOf(image);
    if (prompt.isEmpty())
        return png;
    const QJsonObject graph{
        {QStringLiteral("2"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("CLIPTextEncode")},
                     {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("text"), prompt}}}}}};
    return gd::sandbox::PngText::withText(png, "prompt", QJsonDocument(graph).toJson(QJsonDocument::Compact));
}

// A grey sheet with the character in the middle: the colour is what the sheet "is".
inline QByteArray sheetPng(const QColor& colour)
{
    QImage image(200, 200, QImage::Format_RGB32);
    image.fill(QColor(150, 150, 150));
    for (int y = 40; y < 190; ++y)
        for (int x = 70; x < 130; ++x)
            image.setPixel(x, y, colour.rgb());
    return pngOf(image);
}

// Two characters side by side: Mara in orange, Ivo in teal.
inline QVector<Figure> maraAndIvo()
{
    return {{kOrange, QRect(70, 60, 40, 100)}, {kTeal, QRect(200, 50, 40, 110)}};
}

} // namespace sbimages
