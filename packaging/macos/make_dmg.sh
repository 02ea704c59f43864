#!/usr/bin/env bash
# dist/Sayline.app -> dist/Sayline-VERSION-macos-ARCH.dmg (macOS only: hdiutil). Run by packaging/build.py --dmg.
#   bash packaging/macos/make_dmg.sh VERSION [ARCH]      (ARCH: arm64 or x86_64; default: this Mac's)
# With SAYLINE_SIGN_IDENTITY ("Developer ID Application: …") the app is signed with the hardened
# runtime first; with SAYLINE_NOTARY_PROFILE (a `xcrun notarytool store-credentials` profile) the
# .dmg is also notarised and stapled. Without them the .dmg is unsigned: Gatekeeper then asks the
# user to right-click > Open the first time. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:?usage: make_dmg.sh VERSION [ARCH]}"
arch="${2:-$(uname -m)}"
app=dist/Sayline.app
dmg="dist/Sayline-$version-macos-$arch.dmg"
[ -d "$app" ] || { echo "make_dmg: $app is missing; run packaging/build.py first." >&2; exit 1; }

if [ -n "${SAYLINE_SIGN_IDENTITY:-}" ]; then
    codesign --force --deep --timestamp --options runtime \
        --entitlements packaging/macos/entitlements.plist --sign "$SAYLINE_SIGN_IDENTITY" "$app"
    codesign --verify --strict --verbose=2 "$app"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"  # drag-to-install
rm -f "$dmg"
# hdiutil now and then fails with "Resource busy" on hosted CI Macs (a race with Spotlight or
# XProtect holding the new image: actions/runner-images#7522); a later try goes through.
for try in 1 2 3 4 5; do
    if hdiutil create -volname "Sayline $version" -srcfolder "$stage" -format UDZO -ov "$dmg"; then
        break
    fi
    [ "$try" -lt 5 ] || { echo "make_dmg: hdiutil create failed five times" >&2; exit 1; }
    sleep 10
done

if [ -n "${SAYLINE_SIGN_IDENTITY:-}" ] && [ -n "${SAYLINE_NOTARY_PROFILE:-}" ]; then
    codesign --force --timestamp --sign "$SAYLINE_SIGN_IDENTITY" "$dmg"
    xcrun notarytool submit "$dmg" --keychain-profile "$SAYLINE_NOTARY_PROFILE" --wait
    xcrun stapler staple "$dmg"
fi
echo "make_dmg: $dmg"
