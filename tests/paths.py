"""Where the tests find the repository's files: the bundled example images, the assets, the
package's own files, axe-core."""

from __future__ import annotations

from pathlib import Path

import poolformer_demo

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
EXAMPLES = ASSETS / "examples"

# The shapes model's example: a star it names correctly (class 3).
STAR = EXAMPLES / "shapes_star.png"
# The cat photo most ImageNet tests analyse (with s12's seeded random weights).
PHOTO = EXAMPLES / "chelsea.jpg"
COFFEE = EXAMPLES / "coffee.jpg"
ASTRONAUT = EXAMPLES / "astronaut.jpg"
ROCKET = EXAMPLES / "rocket.jpg"
# A pairs-task example: two discs of the same colour.
PAIRS_SAME = EXAMPLES / "pairs_same_0.png"

# The package the tests import, and the browser script and style it serves.
PACKAGE = Path(poolformer_demo.__file__).resolve().parent
STATIC = PACKAGE / "ui" / "static"
PAGE_JS = STATIC / "page.js"

# axe-core at the version package-lock.json pins (`npm ci`), for the accessibility checks.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
