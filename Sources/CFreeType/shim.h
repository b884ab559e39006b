#include <ft2build.h>
#include FT_FREETYPE_H
#include <fontconfig/fontconfig.h>

/* FreeType's load flags are parenthesised shift macros, which Swift does not import. */
static const int FER_FT_LOAD_RENDER = FT_LOAD_RENDER;
static const int FER_FT_LOAD_TARGET_LIGHT = FT_LOAD_TARGET_LIGHT;
