#!/usr/bin/env bash
# Regenerates the README's pictures with `cfexplorer screenshot` (offscreen, no screen needed).
set -euo pipefail
cd "$(dirname "$0")/images"
export QT_QPA_PLATFORM=offscreen
cfexplorer screenshot course-eve-trained.png --preset course-eve --train --size 1400x860
cfexplorer screenshot factor-space.png --lesson 1 --factor-space --size 1400x860
cfexplorer screenshot lesson-mean-normalization.png --lesson 2 --size 1400x860
cfexplorer screenshot presentation.png --preset course --train --presentation --size 1400x860
cfexplorer screenshot presentation-1280x720.png --lesson 3 --presentation --size 1280x720
cfexplorer screenshot presentation-1920x1080.png --lesson 3 --presentation --size 1920x1080
