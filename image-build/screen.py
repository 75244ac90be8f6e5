#!/usr/bin/python3
"""What the boot test sees on the emulated screen (Debian's python3-pil).

  screen.py check SHOT.ppm SHOT.png REFDIR [--same-as OTHER.png]

Converts the QEMU screendump to PNG, then fails (exit 3) unless
  - it is not blank: many colours, not one flat fill (a black console, an
    empty frame buffer);
  - the nearest of the kiosk's own screens, as `kiosk-app screenshots REFDIR`
    renders them (every lobby and technician screen, English and Spanish),
    is an attract screen;
  - with --same-as: it matches that earlier screenshot (the terminal came
    back to where it was), except for small regions such as the clock.
Prints one line of figures.
"""

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

GRID = (160, 100)  # compared at this size: layout and colours, not glyphs


def small(img):
    return img.convert("RGB").resize(GRID, Image.BOX)


def distance(a, b):
    """Mean absolute difference per channel, 0..255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["check"])
    p.add_argument("ppm")
    p.add_argument("png")
    p.add_argument("refdir")
    p.add_argument("--same-as")
    a = p.parse_args()

    shot = Image.open(a.ppm).convert("RGB")
    shot.save(a.png)
    w, h = shot.size
    colours = shot.getcolors(1 << 24)
    n_colours = len(colours)
    top = max(colours)[0] / (w * h)
    problems = []
    if n_colours < 16 or top > 0.99:
        problems.append(f"blank ({n_colours} colours, {top:.0%} one colour)")

    s = small(shot)
    refs = sorted(Path(a.refdir).glob("*.png"))
    if not refs:
        problems.append(f"no reference screens in {a.refdir}")
        nearest = "none"
    else:
        scored = sorted((distance(s, small(Image.open(r))), r.stem) for r in refs)
        (d0, nearest) = scored[0]
        other = next(((d, n) for d, n in scored if "attract" not in n), (float("nan"), "none"))
        if "attract" not in nearest:
            problems.append(f"the nearest screen is {nearest}, not the attract screen")
    line = (
        f"{w}x{h}, {n_colours} colours; nearest screen {nearest} (distance {d0:.1f}; "
        f"nearest other than attract: {other[1]} {other[0]:.1f})"
        if refs
        else f"{w}x{h}, {n_colours} colours"
    )

    if a.same_as:
        before = Image.open(a.same_as).convert("RGB")
        if before.size != shot.size:
            problems.append(f"size changed: {before.size} -> {shot.size}")
        else:
            diff = ImageChops.difference(before, shot).convert("L").point(lambda v: 255 if v > 24 else 0)
            changed = ImageStat.Stat(diff).mean[0] / 255
            line += f"; {changed:.2%} of pixels differ from {Path(a.same_as).name}"
            # The clock and the offline mark may change; a different screen
            # changes far more than 5 %.
            if changed > 0.05:
                problems.append(f"{changed:.1%} of the screen differs from before")

    print(line)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    sys.exit(3 if problems else 0)


if __name__ == "__main__":
    main()
