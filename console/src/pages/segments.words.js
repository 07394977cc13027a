// The segments page's words, English and Simplified Chinese: loaded with its page (its chunk); i18n.js adds them.
export const WORDS = {
  en: {
    "sg.title": "Segments", "sg.intro": "Every member by 12-month spend (A the top 10% of spenders, B the next 20%, C the next 30%, D the rest and those who never bought) and by how recently they bought (1 within 30 days, 2 within 180, 3 longer ago or never). Recomputed daily; a segment staff set by hand (PUT /v1/members/{id}/segment) stays until dropped.",
    "sg.grid": "Members per segment", "sg.class": "Class", "sg.grade": "Grade",
    "sg.grade.1": "1 · bought within 30 days", "sg.grade.2": "2 · within 180 days", "sg.grade.3": "3 · longer ago or never",
    "sg.class.A": "A · top 10%", "sg.class.B": "B · next 20%", "sg.class.C": "C · next 30%", "sg.class.D": "D · the rest",
    "sg.total": "{n} members", "sg.as.of": "As of the recompute at {at}", "sg.never": "No recompute has run yet: every member counts from the first.",
    "sg.cell": "{cell}: {n} members", "sg.members": "Members in {cell}", "sg.none": "No member in {cell}.", "sg.more": "More",
    "sg.manual": "set by hand",
  },
  "zh-CN": {
    "sg.title": "会员分群", "sg.intro": "按近 12 个月消费排名（A 为消费会员的前 10%，B 为其后 20%，C 为其后 30%，D 为其余及从未消费的会员）和最近一次消费（1：30 天内，2：180 天内，3：更久或从未）对每位会员分群。每日重新计算；员工手动设置的分群将保留，直至取消。",
    "sg.grid": "各分群会员数", "sg.class": "等级", "sg.grade": "活跃度",
    "sg.grade.1": "1 · 30 天内消费", "sg.grade.2": "2 · 180 天内", "sg.grade.3": "3 · 更久或从未",
    "sg.class.A": "A · 前 10%", "sg.class.B": "B · 其后 20%", "sg.class.C": "C · 其后 30%", "sg.class.D": "D · 其余",
    "sg.total": "共 {n} 位会员", "sg.as.of": "截至 {at} 的计算", "sg.never": "尚未计算：首次计算后计入每位会员。",
    "sg.cell": "{cell}：{n} 位会员", "sg.members": "{cell} 的会员", "sg.none": "{cell} 中没有会员。", "sg.more": "更多",
    "sg.manual": "手动设置",
  },
};
