"""Every way we know for a captured page to make its viewer's browser reach a host.

``KINDS`` maps a name to an HTML snippet; ``{u}`` stands for the watched origin
(``http://host:port``). The unit test of the rewriter (``test_safe_html.py``)
and the browser test with a loopback listener (``tests/e2e/test_evidence_safe_view.py``)
run over the same list, so a kind added here is checked both ways.
"""

from __future__ import annotations

KINDS: dict[str, str] = {
    "iframe": '<iframe src="{u}/iframe"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<img src={u}/srcdoc.png>"></iframe>',
    "frame": '<frameset><frame src="{u}/frame"></frameset>',
    "object": '<object data="{u}/object" type="text/html">fallback text</object>',
    "object-param": '<object><param name="movie" value="{u}/param.swf"></object>',
    "embed": '<embed src="{u}/embed.png" type="image/png">',
    "img": '<img src="{u}/img.png" alt="an image">',
    "img-entities": '<img src="&#104;ttp&#58;//{h}/img-entity.png">',
    "img-srcset": '<img srcset="{u}/s1.png 1x, {u}/s2.png 2x">',
    "img-lowsrc-longdesc": '<img lowsrc="{u}/low.png" longdesc="{u}/desc" dynsrc="{u}/dyn">',
    "picture-source": (
        '<picture><source srcset="{u}/p.webp" type="image/webp">'
        '<source srcset="{u}/p.avif 1x" media="(min-width: 1px)"><img alt="p"></picture>'
    ),
    "video": '<video src="{u}/v.mp4" poster="{u}/poster.jpg" preload="auto" autoplay></video>',
    "video-source-track": (
        '<video preload="auto"><source src="{u}/v.webm" type="video/webm">'
        '<track src="{u}/subs.vtt" default></video>'
    ),
    "audio": '<audio src="{u}/a.mp3" preload="auto" autoplay></audio>',
    "audio-source": '<audio preload="auto"><source src="{u}/a.ogg"></audio>',
    "link-stylesheet": '<link rel="stylesheet" href="{u}/style.css">',
    "link-preconnect": '<link rel="preconnect" href="{u}">',
    "link-dns-prefetch": '<link rel="dns-prefetch" href="{u}">',
    "link-prefetch-preload": (
        '<link rel="prefetch" href="{u}/prefetch">'
        '<link rel="preload" as="image" href="{u}/pl.png">'
        '<link rel="modulepreload" href="{u}/m.js"><link rel="prerender" href="{u}/pr">'
    ),
    "link-icon-manifest": (
        '<link rel="icon" href="{u}/favicon.ico"><link rel="manifest" href="{u}/m">'
    ),
    "meta-refresh": '<meta http-equiv="refresh" content="0; url={u}/refresh">',
    "meta-link-header": '<meta http-equiv="Link" content="<{u}/hint>; rel=preconnect">',
    "base": '<base href="{u}/base/"><img src="relative.png"><a href="rel-link">r</a>',
    "form-action": (
        '<form action="{u}/form" method="post"><input name="q" value="x">'
        '<input type="image" src="{u}/input.png"><button formaction="{u}/formaction">go</button>'
        "</form>"
    ),
    "svg-image-href": '<svg width="10" height="10"><image href="{u}/svg.png"/></svg>',
    "svg-xlink-href": (
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
        '<image xlink:href="{u}/xlink.png"/><use xlink:href="{u}/use.svg#a"/></svg>'
    ),
    "svg-foreign-object": (
        '<svg><foreignObject><img src="{u}/fo.png"></foreignObject>'
        "<style>@import url({u}/svgstyle.css);</style></svg>"
    ),
    "css-style-attr-url": (
        '<div style="width:10px;height:10px;background:url({u}/attr.png)">x</div>'
    ),
    "css-style-attr-escaped": (
        '<div style="background-image:\\75 rl({u}/esc.png);color:red">x</div>'
        '<p style="background-image:image-set(&quot;{u}/set.png&quot; 1x)">y</p>'
    ),
    "css-style-element-url": (
        "<style>body{{background:URL({u}/bg.png)}} p{{cursor:url({u}/c.cur),auto}}</style><p>x</p>"
    ),
    "css-import": "<style>@import '{u}/imp.css'; @import url({u}/imp2.css) screen;</style>",
    "css-font-face": (
        "<style>@font-face{{font-family:x;src:url({u}/f.woff2)}} p{{font-family:x}}</style><p>x</p>"
    ),
    "css-nested-and-custom": (
        "<style>@media all{{ @supports (color:red){{ div{{--bg:url({u}/var.png);"
        "background:var(--bg)}} }} }}</style><div>x</div>"
    ),
    "css-breakout": '<style>p{{content:"</style><img src={u}/breakout.png>"}}</style><p>x</p>',
    "event-handlers": (
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
        "onerror=\"this.src='{u}/onerror.png'\" onload=\"fetch('{u}/onload')\">"
        "<body onload=\"location='{u}/bodyload'\"><div onmouseover=\"fetch('{u}/hover')\">h</div>"
    ),
    "script": (
        '<script src="{u}/s.js"></script><script>new Image().src="{u}/inline.png"</script>'
        '<script type="speculationrules">{{"prefetch":[{{"source":"list","urls":["{u}/spec"]}}]}}'
        "</script>"
    ),
    "noscript-template": (
        '<noscript><img src="{u}/noscript.png"></noscript>'
        '<template><img src="{u}/tpl.png"></template>'
    ),
    "anchor-ping": (
        '<a href="{u}/link" ping="{u}/ping">a link</a><area href="{u}/area" ping="{u}/aping">'
    ),
    "legacy-background": (
        '<table background="{u}/table.png"><tr><td background="{u}/td.png">c</td></tr></table>'
        '<body background="{u}/body.png">'
    ),
    "cite-and-manifest": (
        '<blockquote cite="{u}/cite">q</blockquote><html manifest="{u}/app.manifest">'
    ),
    "conditional-comment": '<!--[if IE]><img src="{u}/ie.png"><![endif]--><p>c</p>',
}


def snippet(kind: str, origin: str) -> str:
    """The kind's snippet aimed at ``origin`` (``http://host:port``)."""
    host = origin.split("://", 1)[1]
    return KINDS[kind].format(u=origin, h=host)


def page(kind: str, origin: str) -> str:
    """A whole synthetic page around the snippet (with a visible marker text)."""
    if kind == "frame":  # a frameset is only honoured in place of a body
        head = "<!doctype html><html><head><title>Synthetic</title></head>"
        return f"{head}{snippet(kind, origin)}</html>"
    return (
        "<!doctype html><html><head><title>Synthetic leak test</title></head><body>"
        f"<h1>Synthetic page: {kind}</h1>{snippet(kind, origin)}"
        "<p>Invented text for tests, no real content.</p></body></html>"
    )
