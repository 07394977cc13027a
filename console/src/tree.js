// The referral tree as a picture: d3-hierarchy lays it out, this draws it as SVG. Levels the programme credits
// are people; beyond them, one node per level with its count.
import { hierarchy, tree } from "d3-hierarchy";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// root: {name, children: [...], count?, spacer?} (a spacer is an invisible node that keeps a row)
export function drawTree(root, { title }) {
  const layout = hierarchy(root);
  const rowHeight = 90;
  const nodeWidth = 130;
  tree().nodeSize([nodeWidth, rowHeight])(layout);
  let minX = Infinity;
  let maxX = -Infinity;
  layout.each((n) => { minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x); });
  const width = maxX - minX + nodeWidth;
  const height = (layout.height + 1) * rowHeight;
  const picture = svg("svg", { class: "tree", width, style: `max-width: min(100%, ${width}px)`, viewBox: `${minX - nodeWidth / 2} -30 ${width} ${height}`, role: "img", "aria-label": title });
  picture.append(svg("title", {}, title));
  for (const link of layout.links()) {
    picture.append(svg("path", { class: `link${link.target.data.spacer || link.source.data.spacer ? " spacer" : ""}`, d: `M${link.source.x},${link.source.y} C${link.source.x},${(link.source.y + link.target.y) / 2} ${link.target.x},${(link.source.y + link.target.y) / 2} ${link.target.x},${link.target.y}` }));
  }
  for (const node of layout.descendants()) {
    if (node.data.spacer) continue;
    const group = svg("g", { class: `node${node.data.count !== undefined ? " count" : ""}`, transform: `translate(${node.x},${node.y})`, "data-level": node.depth });
    group.append(svg("circle", { r: node.data.count !== undefined ? 14 : 9 }));
    const label = node.data.name.length > 18 ? `${node.data.name.slice(0, 17)}…` : node.data.name;
    group.append(svg("text", { y: 26, "text-anchor": "middle" }, label));
    picture.append(group);
  }
  return picture;
}
