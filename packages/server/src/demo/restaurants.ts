/** The demo's restaurants, their menus and regular customers, and the lines their bots say. */

export type Language = 'ar' | 'en';
export type Channel = 'whatsapp' | 'telegram';

export interface MenuItem {
  ar: string;
  en: string;
  price: number;
}

export interface DemoCustomer {
  name: string;
  language: Language;
  channel: Channel;
  /** The WhatsApp phone or the Telegram chat id. */
  id: string;
  /** How often they order, relative to the others: regulars come back. */
  weight: number;
}

export interface Restaurant {
  slug: string;
  name: string;
  nameAr: string;
  /** ISO 4217: the tenant's currency. */
  currencyCode: string;
  currency: { ar: string; en: string };
  /** Local time minus UTC, in hours: the Gulf keeps no daylight saving time. */
  utcOffsetHours: number;
  whatsappNumber: string;
  telegramBotId: number;
  /** A normal weekday's orders; weekends (Thursday, Friday) are busier. */
  ordersPerDay: number;
  /** The row-sync source's id for this restaurant (its site in the operations platform). */
  siteId: string;
  drivers: string[];
  zones: string[];
  menu: MenuItem[];
  customers: DemoCustomer[];
}

/** Deterministic randomness: the same seed draws the same plan, so a repeated plan repeats its ids. */
export type Rng = () => number;

export function seededRng(seed: string): Rng {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let state = h >>> 0;
  // mulberry32
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(items: readonly T[], rng: Rng = Math.random): T =>
  items[Math.floor(rng() * items.length)]!;
export const between = (min: number, max: number, rng: Rng = Math.random) =>
  Math.round(min + rng() * (max - min));

/** One item, chosen in proportion to `weight`. */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], rng: Rng): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let at = rng() * total;
  for (const item of items) {
    at -= item.weight;
    if (at <= 0) return item;
  }
  return items.at(-1)!;
}

const AR_NAMES = [
  'خالد',
  'منى',
  'ليلى',
  'يوسف',
  'هند',
  'سلطان',
  'عائشة',
  'ماجد',
  'لمى',
  'تركي',
  'جود',
  'بندر',
  'رهف',
  'سعود',
  'أمل',
  'فيصل',
  'دانة',
  'ناصر',
  'غادة',
  'مشاري',
  'شهد',
  'راشد',
  'العنود',
  'حمد',
];
const EN_NAMES = [
  'Hannah',
  'Ahmed',
  'Ravi',
  'Maria',
  'Chen',
  'Fatima',
  'Lucas',
  'Emma',
  'Noah',
  'Zara',
  'Arjun',
  'Sofia',
  'Karim',
  'Olivia',
  'Hamza',
  'Grace',
  'Mateo',
  'Leila',
  'Ethan',
  'Nadia',
  'Ivan',
  'Mia',
];

/**
 * The named regulars first (the demo's earlier versions used exactly these), then more people
 * drawn from the name lists: about fifty customers a restaurant, so two weeks of orders do
 * not all come from six people.
 */
function population(
  seed: string,
  named: Omit<DemoCustomer, 'weight'>[],
  phonePrefix: string,
  telegramBase: number,
  arabicShare: number,
): DemoCustomer[] {
  const rng = seededRng(`${seed}:people`);
  const customers: DemoCustomer[] = named.map((c) => ({ ...c, weight: 4 }));
  for (let i = 0; i < 44; i++) {
    const language: Language = rng() < arabicShare ? 'ar' : 'en';
    const channel: Channel = rng() < 0.7 ? 'whatsapp' : 'telegram';
    const name = pick(language === 'ar' ? AR_NAMES : EN_NAMES, rng);
    customers.push({
      name,
      language,
      channel,
      id: channel === 'whatsapp' ? `${phonePrefix}${String(2000 + i)}` : String(telegramBase + 100 + i),
      // A few regulars, many occasional guests.
      weight: rng() < 0.2 ? 3 : rng() < 0.5 ? 1.5 : 0.6,
    });
  }
  return customers;
}

export const RESTAURANTS: Restaurant[] = [
  {
    slug: 'sufrah',
    name: 'Sufrah',
    nameAr: 'سفرة',
    currencyCode: 'SAR',
    currency: { ar: 'ريال', en: 'SAR' },
    utcOffsetHours: 3,
    whatsappNumber: '+966508034010',
    telegramBotId: 7_001_001,
    ordersPerDay: 13,
    siteId: 'site-riyadh-01',
    drivers: ['Faisal', 'Imran', 'Yasir', 'Tariq'],
    zones: ['Al Olaya', 'Al Malqa', 'Hittin', 'Al Nakheel'],
    menu: [
      { ar: 'كبسة دجاج', en: 'Chicken Kabsa', price: 45 },
      { ar: 'مندي لحم', en: 'Lamb Mandi', price: 65 },
      { ar: 'شاورما', en: 'Shawarma', price: 18 },
      { ar: 'لبن', en: 'Laban', price: 5 },
      { ar: 'كنافة', en: 'Kunafa', price: 22 },
    ],
    customers: population(
      'sufrah',
      [
        { name: 'سارة', language: 'ar', channel: 'whatsapp', id: '+966501110001' },
        { name: 'محمد', language: 'ar', channel: 'telegram', id: '510000001' },
        { name: 'نورة', language: 'ar', channel: 'whatsapp', id: '+966501110002' },
        { name: 'عبدالله', language: 'ar', channel: 'whatsapp', id: '+966501110003' },
        { name: 'Omar', language: 'en', channel: 'telegram', id: '510000002' },
        { name: 'Priya', language: 'en', channel: 'whatsapp', id: '+966501110004' },
      ],
      '+96650111',
      510_000_000,
      0.75,
    ),
  },
  {
    slug: 'ocean',
    name: 'Ocean Grill',
    nameAr: 'أوشن جريل',
    currencyCode: 'AED',
    currency: { ar: 'درهم', en: 'AED' },
    utcOffsetHours: 4,
    whatsappNumber: '+971501234567',
    telegramBotId: 7_002_002,
    ordersPerDay: 9,
    siteId: 'site-dubai-02',
    drivers: ['Joseph', 'Rahul', 'Bilal'],
    zones: ['Marina', 'JLT', 'Al Barsha', 'Jumeirah'],
    menu: [
      { ar: 'هامور مشوي', en: 'Grilled Hammour', price: 72 },
      { ar: 'برياني روبيان', en: 'Shrimp Biryani', price: 58 },
      { ar: 'سمك وبطاطا', en: 'Fish & Chips', price: 42 },
      { ar: 'ليمون ونعناع', en: 'Lemon Mint', price: 15 },
      { ar: 'أم علي', en: 'Umm Ali', price: 24 },
    ],
    customers: population(
      'ocean',
      [
        { name: 'Aisha', language: 'en', channel: 'whatsapp', id: '+971502220001' },
        { name: 'James', language: 'en', channel: 'telegram', id: '520000001' },
        { name: 'Lina', language: 'en', channel: 'whatsapp', id: '+971502220002' },
        { name: 'Daniel', language: 'en', channel: 'whatsapp', id: '+971502220003' },
        { name: 'ريم', language: 'ar', channel: 'telegram', id: '520000002' },
        { name: 'فهد', language: 'ar', channel: 'whatsapp', id: '+971502220004' },
      ],
      '+97150222',
      520_000_000,
      0.3,
    ),
  },
];

/** The people who answer escalations, by language: named, so "resolved by" says who. */
export const OPERATORS: Record<Language, string[]> = {
  ar: ['خالد', 'ريم'],
  en: ['Sam', 'Maya'],
};

export const LINES = {
  hello: { ar: 'السلام عليكم', en: 'Hi there!' },
  welcome: {
    ar: (r: Restaurant) => `وعليكم السلام! أهلاً بك في ${r.nameAr} 🌙 ماذا تحب أن تطلب اليوم؟`,
    en: (r: Restaurant) => `Welcome to ${r.name}! What would you like to order today?`,
  },
  want: {
    ar: (items: string) => `أبغى ${items} لو سمحت`,
    en: (items: string) => `Can I get ${items}, please?`,
  },
  summary: {
    ar: (items: string, total: string) => `تمام! طلبك: ${items}. المجموع ${total}. أأكد الطلب؟`,
    en: (items: string, total: string) => `Got it: ${items}. That's ${total}. Shall I confirm?`,
  },
  yes: { ar: 'نعم، أكد الطلب', en: 'Yes please, confirm it' },
  confirmed: {
    ar: (n: string) => `تم تأكيد طلبك رقم ${n} ✅`,
    en: (n: string) => `Order #${n} is confirmed ✅`,
  },
  cooking: { ar: 'طلبك قيد التحضير 👨‍🍳', en: 'Your order is being cooked 👨‍🍳' },
  delivering: { ar: 'طلبك في الطريق إليك 🛵', en: 'Your order is on its way 🛵' },
  delivered: { ar: 'تم توصيل طلبك، بالعافية!', en: 'Delivered — enjoy your meal!' },
  cancel: { ar: 'آسف، أبي ألغي الطلب', en: 'Sorry, can I cancel that order?' },
  cancelled: {
    ar: 'تم إلغاء طلبك، نتشرف بخدمتك مرة ثانية',
    en: 'Your order is cancelled — hope to see you again',
  },
  question: {
    ar: ['متى تفتحون اليوم؟', 'عندكم توصيل لحي الملقا؟', 'هل عندكم خيارات نباتية؟'],
    en: [
      'What time do you close tonight?',
      'Do you deliver to the Marina?',
      'Do you have vegetarian dishes?',
    ],
  },
  answer: {
    ar: 'نعم! نفتح من ١٢ ظهراً إلى ١٢ ليلاً ونوصل لكل الأحياء القريبة 😊',
    en: 'Yes! We are open noon to midnight and deliver all around the area 😊',
  },
  human: { ar: 'أبي أكلم موظف لو سمحت، الطلب متأخر', en: 'Can I talk to a person? My order is late' },
  handoff: {
    ar: 'حوّلتك لأحد موظفينا، لحظات من فضلك',
    en: 'I have passed you to one of our team, one moment please',
  },
  operator: {
    ar: (name: string) => `معك ${name} من فريق الخدمة، طلبك بيوصل خلال عشر دقائق ونعتذر عن التأخير`,
    en: (name: string) =>
      `Hi, this is ${name} from the team — your order arrives in ten minutes, sorry for the wait`,
  },
  thanks: { ar: 'شكراً جزيلاً', en: 'Thanks a lot' },
} as const;
