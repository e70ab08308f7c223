#!/bin/sh
# A stand-in for nvidia-smi. Prints canned answers to gemDirect's GPU query, chosen by FAKE_SMI_MODE:
#   ok (default)  one GPU          two-gpus    two GPUs (indices 0 and 1)
#   na-values     [N/A] / [Not Supported] cells
#   driver-fail   the driver failure message, exit 9
#   hang          never answers (sleeps 30 s), for timeout tests
# Any other argument list than the one NvidiaSmiSource passes is refused with exit 2, so the tests
# also prove the arguments arrive as separate words (no shell string).

if [ "$#" -ne 2 ] \
   || [ "$1" != "--query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu" ] \
   || [ "$2" != "--format=csv,noheader,nounits" ]; then
    echo "fake-nvidia-smi: unexpected arguments: $*" >&2
    exit 2
fi

case "${FAKE_SMI_MODE:-ok}" in
ok)
    echo "0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 37, 61"
    ;;
two-gpus)
    echo "0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, 37, 61"
    echo "1, NVIDIA RTX A6000, 49140, 30000, 18720, 99, 80"
    ;;
na-values)
    echo "0, NVIDIA GeForce RTX 3090, 24576, 1024, 23201, [N/A], [Not Supported]"
    ;;
driver-fail)
    echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
    echo ""
    exit 9
    ;;
hang)
    # exec: the killed process is the sleep itself, so no orphan keeps running after the timeout.
    exec sleep 30
    ;;
*)
    echo "fake-nvidia-smi: unknown FAKE_SMI_MODE ${FAKE_SMI_MODE}" >&2
    exit 3
    ;;
esac
