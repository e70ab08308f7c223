#include "gpu/RingBuffer.h"

#include <QTest>

using gd::gpu::RingBuffer;

// The fixed-capacity history behind the GPU dashboard.
class TestRingBuffer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fillsThenOverwritesOldest()
    {
        RingBuffer<int> ring(3);
        QVERIFY(ring.isEmpty());
        ring.push(1);
        ring.push(2);
        QCOMPARE(ring.toVector(), QVector<int>({1, 2}));
        ring.push(3);
        QVERIFY(ring.isFull());
        ring.push(4);
        ring.push(5);
        QCOMPARE(ring.size(), 3);
        QCOMPARE(ring.toVector(), QVector<int>({3, 4, 5}));
        QCOMPARE(ring.oldest(), 3);
        QCOMPARE(ring.newest(), 5);
    }

    void iteratesOldestToNewest()
    {
        RingBuffer<int> ring(4);
        for (int i = 0; i < 10; ++i)
            ring.push(i);
        QVector<int> seen;
        for (int v : ring)
            seen.push_back(v);
        QCOMPARE(seen, QVector<int>({6, 7, 8, 9}));
    }

    void clearEmpties()
    {
        RingBuffer<int> ring(2);
        ring.push(1);
        ring.push(2);
        ring.push(3);
        ring.clear();
        QVERIFY(ring.isEmpty());
        QVERIFY(ring.begin() == ring.end());
        ring.push(7);
        QCOMPARE(ring.toVector(), QVector<int>({7}));
    }

    void nonPositiveCapacityKeepsOne()
    {
        RingBuffer<int> ring(0);
        QCOMPARE(ring.capacity(), 1);
        ring.push(1);
        ring.push(2);
        QCOMPARE(ring.toVector(), QVector<int>({2}));
    }
};

QTEST_GUILESS_MAIN(TestRingBuffer)
#include "tst_ringbuffer.moc"
