"""The judge's child process: run one probe on a student's nnlib, print the numbers, nothing else.

Started by ``autograder.judge`` as ``python -I -m autograder.judge_child NAME SEED FOLDER``. It
is untrusted from the moment the student's code is imported: whatever it prints is only data, which
the parent reads with ``allow_pickle=False`` and compares with the reference itself.
"""
import io
import os
import sys


def flatten(value, path, arrays, kinds):
    """Store ``value`` as arrays under key paths; ``kinds`` records what each leaf was."""
    import numpy as np

    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{path}[{key!r}]", arrays, kinds)
    elif isinstance(value, (list, tuple)):
        kinds[path] = f"{type(value).__name__}:{len(value)}"
        for index, item in enumerate(value):
            flatten(item, f"{path}[{index}]", arrays, kinds)
    else:
        if isinstance(value, np.ndarray):
            kinds[path] = "ndarray" if type(value) is np.ndarray else f"subclass:{type(value).__name__}"
            value = np.array(value, copy=True).view(np.ndarray)
        elif isinstance(value, (bool, np.bool_)):
            kinds[path] = "bool"
        elif isinstance(value, (int, float, np.integer, np.floating)):
            kinds[path] = "number"
        else:
            kinds[path] = f"other:{type(value).__name__}"
            return
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            kinds[path] = f"other:{array.dtype}"
            return
        arrays[f"leaf{len(arrays)}"] = array
        kinds[path] += f"@leaf{len(arrays) - 1}"


def main():
    name, seed, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    # Keep the real stdout for the result; whatever the student's code prints goes to stderr.
    result_fd = os.dup(1)
    os.dup2(2, 1)
    sys.path.insert(0, folder)
    import numpy as np

    from autograder.probes import PROBES

    arrays, kinds = {}, {}
    try:
        import nnlib

        origin = os.path.dirname(os.path.abspath(nnlib.__file__))
        if origin != os.path.join(os.path.abspath(folder), "nnlib"):
            raise ImportError(f"nnlib was loaded from {origin}, not from the submission")
        result = PROBES[name].run(nnlib, np.random.default_rng(seed))
        flatten(result, "", arrays, kinds)
        status = "ok"
    except BaseException as error:  # the student's exception is a verdict, not a crash
        status = f"{type(error).__name__}: {error}"[:2000]
    buffer = io.BytesIO()
    np.savez(buffer, __status__=np.array(status), __kinds__=np.array(
        [f"{path}\t{kind}" for path, kind in kinds.items()]), **arrays)
    payload = memoryview(buffer.getvalue())
    while payload:
        payload = payload[os.write(result_fd, payload):]
    os._exit(0)


if __name__ == "__main__":
    main()
