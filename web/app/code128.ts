// Code 128 (code set B) as SVG: the voucher barcode, drawn in the browser so
// it shows offline too. Till scanners read Code 128 everywhere.

// The symbols 0–105 as 11 modules each, bar = 1, first module the highest
// bit (ISO/IEC 15417, table 1). The stop symbol has 13 modules.
const symbols = [
  716, 1644, 1638, 1176, 1164, 1100, 1224, 1220, 1124, 1608, 1604, 1572, 1436, 1244, 1230, 1484, 1260, 1254, 1650,
  1628, 1614, 1764, 1652, 1902, 1868, 1836, 1830, 1892, 1844, 1842, 1752, 1734, 1590, 1304, 1112, 1094, 1416, 1128,
  1122, 1672, 1576, 1570, 1464, 1422, 1134, 1496, 1478, 1142, 1910, 1678, 1582, 1768, 1762, 1774, 1880, 1862, 1814,
  1896, 1890, 1818, 1914, 1602, 1930, 1328, 1292, 1200, 1158, 1068, 1062, 1424, 1412, 1232, 1218, 1076, 1074, 1554,
  1616, 1978, 1556, 1146, 1340, 1212, 1182, 1508, 1268, 1266, 1956, 1940, 1938, 1758, 1782, 1974, 1400, 1310, 1118,
  1512, 1506, 1960, 1954, 1502, 1518, 1886, 1966, 1668, 1680, 1692,
];
const startB = 104;
const stop = "1100011101011";
const quiet = 10; // modules of white on each side

/** MaxCode128Length bounds the text one barcode carries. */
export const MaxCode128Length = 64;

/**
 * code128Modules returns the modules (1 = bar) of text in code set B, with
 * start, check and stop symbols. It throws for characters outside printable
 * ASCII and for text longer than MaxCode128Length.
 */
export function code128Modules(text: string): string {
  if (text.length === 0 || text.length > MaxCode128Length) {
    throw new RangeError(`code 128: want 1 to ${MaxCode128Length} characters, got ${text.length}`);
  }
  const values = [startB];
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c < 32 || c > 126) throw new RangeError(`code 128 set B cannot encode ${JSON.stringify(ch)}`);
    values.push(c - 32);
  }
  let check = values[0];
  for (let i = 1; i < values.length; i++) check += values[i] * i;
  values.push(check % 103);
  return values.map((v) => symbols[v].toString(2).padStart(11, "0")).join("") + stop;
}

/**
 * code128Svg returns an SVG drawing of text as a Code 128 barcode, height
 * modules high plus quiet zones, labelled for screen readers.
 */
export function code128Svg(text: string, label: string, height = 40): SVGSVGElement {
  const modules = code128Modules(text);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const width = modules.length + 2 * quiet;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("preserveAspectRatio", "none");
  const bg = document.createElementNS(ns, "rect");
  bg.setAttribute("width", String(width));
  bg.setAttribute("height", String(height));
  bg.setAttribute("fill", "#fff");
  svg.appendChild(bg);
  let d = "";
  for (let i = 0; i < modules.length; ) {
    if (modules[i] !== "1") {
      i++;
      continue;
    }
    let j = i;
    while (modules[j] === "1") j++;
    d += `M${i + quiet} 0h${j - i}v${height}h${i - j}z`;
    i = j;
  }
  const bars = document.createElementNS(ns, "path");
  bars.setAttribute("d", d);
  bars.setAttribute("fill", "#000");
  svg.appendChild(bars);
  return svg;
}
