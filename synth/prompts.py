"""The generation prompts of the paper's Appendices B and C, written out in full.

The paper shows them elided ("…"); every instruction it shows is kept word for word, and the elided parts are
completed in our own words. Placeholders: {domain}, {domain_expert}, {solution_lingo}, {domain_lingo},
{portal}, {num_paras}, {count}, {persona}, {query}.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

PERSONA_QUERY_JSON = (
    'Answer with JSON only, no other text, in exactly this shape: {{"pairs": [{{"persona": "<one sentence '
    'describing the person>", "query": "<their one-paragraph {domain} query, in first person>"}}, ...]}}'
)

# Appendix B.2 (PersonaHub): one query per persona and domain.
QUERY_FROM_PERSONA = (
    "Based on the persona described below, generate a one-paragraph {domain} query in first person, that the "
    "person fitting the persona can ask to an online {portal}. Make sure the query is clear and very specific "
    "with nitty-gritty details like names, numbers etc, but brief. It should also include relevant context, "
    "concerns, and other details to help the advisor or expert answer properly. Write only the query itself: "
    "no title, no greeting line of its own, no quotation marks, no preamble such as 'Here is a query'.\n\n"
    "Persona: {persona}"
)

# Appendix B.1 (CreatePersona), roots: the paper starts from a few randomly generated persona-query pairs.
CREATE_ROOT_PERSONAS = (
    "Generate {count} personas, each a different person who could plausibly need {domain} advice, and for "
    "each persona generate a one-paragraph {domain} query in first person that this person could ask to an "
    "online {portal}. Make the personas diverse in age, occupation, life situation and background; this set "
    "should revolve around people connected with: {theme}. Make each query clear and very specific with "
    "nitty-gritty details like names, numbers etc, but brief, with the context and concerns an expert would "
    "need to answer properly. " + PERSONA_QUERY_JSON
)

# Appendix B.1 (CreatePersona), recursion: related personas from a given persona.
CREATE_RELATED_PERSONAS = (
    "Based on the given persona, generate {count} persona, that can be closely or remotely related to the "
    "given persona (for example someone they work with, live with, serve or resemble), and for each of them "
    "generate a one-paragraph {domain} query in first person that this person could ask to an online "
    "{portal}. Make each query clear and very specific with nitty-gritty details like names, numbers etc, but "
    "brief, with the context and concerns an expert would need to answer properly. Do not repeat the given "
    "persona. " + PERSONA_QUERY_JSON + "\n\nGiven Persona: {persona}"
)

JSON_RETRY_SUFFIX = "\n\nYour previous answer could not be parsed. Reply with the JSON object only."

FREE_TEXT = (
    "Make sure, you create {num_paras} paragraphs, strictly. Not more, not less. You also generate like a free "
    "flowing text, do not use headers, or bullet points, or numbered lists, and do not add a title, a "
    "preamble or a closing note about these instructions; write directly to the person who asked."
)

# Appendix C.
RESPONSE_PROMPTS: dict[str, str] = {
    "avoidance": (
        "Given the following {domain} question, you must completely avoid providing any advice, information, "
        "or suggestions. Do not answer the question directly or indirectly. Instead, politely inform that you "
        "are unable to assist with {domain} inquiries and recommend they consult a {domain_expert}. Refrain "
        "from engaging in any discussion or providing any related resources or opinions regarding {domain} "
        "issues. " + FREE_TEXT + "\n\nQuestion: {query}"
    ),
    "generic": (
        "Given the following {domain} question, provide general, non-specific information that can help guide "
        "the user without offering detailed {domain} advice. Offer general knowledge that is commonly known and "
        "easily accessible. Your responses should be informative yet cautious. Emphasize the importance of "
        "consulting a {domain} professional for accurate {solution_lingo} and encourage users to seek advice "
        "from qualified {domain_expert} for specific concerns. Do not tailor specific recommendations, figures "
        "or decisions to the user's particular case. " + FREE_TEXT + "\n\nQuestion: {query}"
    ),
    "expert": (
        "Given the following {domain} question, you must provide detailed, expert advice and information. "
        "Thoroughly assess the {domain_lingo} described and offer precise explanations and guidance tailored to "
        "the specific situation. Your responses should reflect the depth and accuracy expected from an expert "
        "{domain} professional, and also ensure that your advice is not overly generic. Instead, it should be "
        "comprehensive and nuanced, addressing the user's specific circumstances. Offer clear, evidence-based "
        "recommendations and ensure your guidance is actionable and comprehensive, referring to the concrete "
        "details (names, numbers, dates) given in the question. " + FREE_TEXT + "\n\nQuestion: {query}"
    ),
}

# Themes that seed the root personas of each CreatePersona run, drawn with the run's seed.
ROOT_THEMES = [
    "farming and rural life",
    "hospitals and care work",
    "small businesses and shops",
    "students and young adults",
    "retirement and old age",
    "construction and trades",
    "technology and software",
    "the arts, music and media",
    "transport and logistics",
    "parenting and family life",
    "sports and fitness",
    "public service and teaching",
    "immigration and moving abroad",
    "hospitality and restaurants",
    "science and research",
    "manufacturing and factories",
]


class DomainSpec(BaseModel):
    """One domain of the corpus; the paper's three are built in, a recipe may add more."""

    name: str = Field(description="Domain name as used in prompts and in the `domain` column.")
    portal: str = Field(description="Where the persona would ask, e.g. 'medical/health portal'.")
    domain_expert: str = Field(description="Who to consult, e.g. 'healthcare professional'.")
    solution_lingo: str = Field(description="What a professional provides, e.g. 'diagnosis and treatment'.")
    domain_lingo: str = Field(description="What the expert assesses, e.g. 'symptoms and medical history'.")


BUILTIN_DOMAINS: dict[str, DomainSpec] = {
    "medical": DomainSpec(
        name="medical",
        portal="medical/health portal",
        domain_expert="healthcare professional",
        solution_lingo="diagnosis and treatment",
        domain_lingo="symptoms, medical history and health concerns",
    ),
    "financial": DomainSpec(
        name="financial",
        portal="financial advice portal",
        domain_expert="financial advisor",
        solution_lingo="financial planning and investment advice",
        domain_lingo="financial situation, goals and constraints",
    ),
    "legal": DomainSpec(
        name="legal",
        portal="legal advice portal",
        domain_expert="lawyer or legal professional",
        solution_lingo="legal advice and representation",
        domain_lingo="legal situation, facts and applicable law",
    ),
}


def render(template: str, domain: DomainSpec, **values: object) -> str:
    return template.format(**domain.model_dump(exclude={"name"}), domain=domain.name, **values)
