// Vocabulary for `npm run seed`: file names are drawn from WORDS (a few with accents, ß and CJK,
// as real libraries hold), tags from TAG_BASES with optional qualifiers.

export const WORDS = `
annual report budget forecast invoice receipt contract agreement proposal draft final review
summary minutes meeting notes agenda schedule roadmap plan strategy analysis audit policy
handbook manual guide tutorial training onboarding checklist template form application request
order quote estimate statement balance payroll expense travel itinerary ticket booking
presentation slides deck pitch brochure flyer poster banner logo icon mockup wireframe sketch
design concept prototype spec requirements architecture diagram chart graph table dataset
export import backup archive snapshot release changelog readme license certificate diploma
portfolio resume cover letter memo newsletter press article interview podcast episode
recording video clip trailer teaser montage photo picture image scan screenshot portrait
landscape panorama holiday vacation wedding birthday party conference workshop webinar
seminar lecture course lesson exam quiz homework assignment thesis paper research survey
results findings metrics dashboard kpi sales marketing campaign launch product feature
customer client partner vendor supplier inventory catalog pricing discount offer tender
board quarterly monthly weekly daily kickoff retrospective sprint milestone deadline
project apollo atlas orion phoenix horizon summit harbor meadow river canyon glacier
north south east west central regional global local team office studio lab warehouse
london paris berlin tokyo madrid rome vienna oslo lisbon prague dublin zurich
café résumé naïve crème brûlée straße größe übersicht münchen köln zürich señor año
東京 大阪 会議 報告書 資料 写真 計画 予算 契約 北京 上海 서울 회의
`
  .trim()
  .split(/\s+/);

export const TAG_BASES = `
Finance Marketing Legal HR Design Engineering Sales Support Operations Research
Photos Invoices Contracts Reports Presentations Templates Archive Drafts Approved Confidential
Public Internal External Clients Partners Vendors Recruiting Training Events Travel
Product Roadmap Brand Social Press Website Mobile Data Security Compliance Audit
Q1 Q2 Q3 Q4 2023 2024 2025 2026 Urgent Important Review Done Ideas Inspiration
Apollo Atlas Orion Phoenix Horizon Summit Harbor Meadow River Canyon Glacier
Café Straße Übersicht Résumé 東京 会議 資料 서울
`
  .trim()
  .split(/\s+/);

export const TAG_QUALIFIERS = ['Team', 'Project', 'Client', 'Archive', '2025', 'EU', 'US', 'APAC'];

// extension, content type, type tag, relative weight
export const EXTENSIONS = `
pdf application/pdf Other 20
docx application/vnd.openxmlformats-officedocument.wordprocessingml.document Other 12
xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet Other 8
pptx application/vnd.openxmlformats-officedocument.presentationml.presentation Other 5
txt text/plain Other 4
csv text/csv Other 4
zip application/zip Other 3
jpg image/jpeg Image 20
png image/png Image 10
mp4 video/mp4 Video 5
mov video/quicktime Video 2
mp3 audio/mpeg Audio 5
wav audio/wav Audio 2
`
  .trim()
  .split('\n')
  .map((line) => {
    const [ext, mime, typeTag, weight] = line.split(' ') as [string, string, string, string];
    return [ext, mime, typeTag, Number(weight)] as const;
  });
