"""Custom tools through the SDK: from a function, from source, with a pydantic args schema; list, retrieve,
modify, delete, count; attach and detach on agents; the base tools exist from the start."""

from __future__ import annotations

import textwrap

import pytest
from letta_client.core.api_error import ApiError
from pydantic import BaseModel, Field

from host.services.agents import BASE_TOOLS


def roll_dice(sides: int, times: int = 1) -> str:
    """Roll a die several times.

    Args:
        sides (int): How many faces the die has.
        times (int): How many rolls to make.

    Returns:
        str: The rolls, comma separated.
    """
    import random

    return ",".join(str(random.randint(1, sides)) for _ in range(times))


class Ingredient(BaseModel):
    name: str = Field(..., description="What it is.")
    grams: int = Field(..., description="How much of it.")


class RecipeArgs(BaseModel):
    dish: str = Field(..., description="The recipe's name.")
    ingredients: list[Ingredient] = Field(..., description="What goes in.")


def save_recipe(dish: str, ingredients: list) -> str:
    """Save a recipe.

    Args:
        dish (str): The recipe's name.
        ingredients (list): What goes in.
    """
    return f"saved {dish} with {len(ingredients)} ingredients"


class TitledArgs(BaseModel):
    title: str = Field(..., description="A property that happens to be called title.")


def save_titled(title: str) -> str:
    """Save something titled.

    Args:
        title (str): A property that happens to be called title.
    """
    return title


def _source(name: str, body: str = "return text.upper()") -> str:
    return textwrap.dedent(f'''
        def {name}(text: str) -> str:
            """Shout some text.

            Args:
                text (str): What to shout.
            """
            {body}
    ''').lstrip()


@pytest.fixture
def tool_cleanup(client):
    ids: list[str] = []
    yield ids
    for tool_id in ids:
        try:
            client.tools.delete(tool_id=tool_id)
        except ApiError as exc:
            assert exc.status_code == 404


def test_base_tools_exist_from_the_start(client):
    for name in BASE_TOOLS:
        found = client.tools.list(name=name)
        assert [t.name for t in found] == [name]
        assert found[0].tool_type != "custom"


def test_upsert_from_function_builds_the_schema_from_the_docstring(client, tool_cleanup):
    tool = client.tools.upsert_from_function(func=roll_dice)
    tool_cleanup.append(tool.id)

    assert tool.name == "roll_dice"
    assert tool.tool_type == "custom"
    assert tool.description.startswith("Roll a die")
    params = tool.json_schema["parameters"]
    assert params["properties"]["sides"] == {"type": "integer", "description": "How many faces the die has."}
    assert params["required"] == ["sides"]
    again = client.tools.upsert_from_function(func=roll_dice, tags=["dice"])
    assert again.id == tool.id, "upsert keeps the id"
    assert again.tags == ["dice"]


def test_upsert_from_function_with_a_pydantic_args_schema(client, tool_cleanup):
    tool = client.tools.upsert_from_function(func=save_recipe, args_schema=RecipeArgs)
    tool_cleanup.append(tool.id)

    assert tool.args_json_schema == RecipeArgs.model_json_schema()
    props = tool.json_schema["parameters"]["properties"]
    assert props["dish"] == {"type": "string", "description": "The recipe's name."}
    assert props["ingredients"]["type"] == "array"
    assert props["ingredients"]["items"]["properties"]["grams"]["type"] == "integer", "$defs are inlined"
    assert tool.json_schema["parameters"]["required"] == ["dish", "ingredients"]


def test_an_args_schema_property_named_title_survives(client, tool_cleanup):
    tool = client.tools.upsert_from_function(func=save_titled, args_schema=TitledArgs)
    tool_cleanup.append(tool.id)

    assert "title" in tool.json_schema["parameters"]["properties"]


def test_create_from_source_then_list_retrieve_modify_count_delete(client, unique, tool_cleanup):
    name = unique("shout")
    start = client.tools.count()
    tool = client.tools.create(source_code=_source(name), tags=["text"])
    tool_cleanup.append(tool.id)
    assert client.tools.count() == start + 1

    assert [t.id for t in client.tools.list(name=name)] == [tool.id]
    assert client.tools.retrieve(tool_id=tool.id).source_code == _source(name)

    modified = client.tools.modify(tool_id=tool.id, description="Shout louder", return_char_limit=100)
    assert (modified.description, modified.return_char_limit) == ("Shout louder", 100)
    modified = client.tools.modify(tool_id=tool.id, source_code=_source(name, "return text.upper() + '!'"))
    assert "+ '!'" in modified.source_code
    assert client.tools.retrieve(tool_id=tool.id).source_code == modified.source_code

    client.tools.delete(tool_id=tool.id)
    assert client.tools.count() == start
    assert client.tools.list(name=name) == []


def test_attach_and_detach_a_custom_tool(client, make_agent, unique, tool_cleanup):
    tool = client.tools.create(source_code=_source(unique("shout")))
    tool_cleanup.append(tool.id)
    agent = make_agent()

    attached = client.agents.tools.attach(agent_id=agent.id, tool_id=tool.id)
    assert tool.name in [t.name for t in attached.tools]
    assert tool.name in [t.name for t in client.agents.tools.list(agent_id=agent.id)]

    detached = client.agents.tools.detach(agent_id=agent.id, tool_id=tool.id)
    assert tool.name not in [t.name for t in detached.tools]
    assert [t.name for t in client.agents.tools.list(agent_id=agent.id)] == BASE_TOOLS


def test_create_agent_with_a_custom_tool_by_id_and_by_name(client, make_agent, unique, tool_cleanup):
    by_id = client.tools.create(source_code=_source(unique("by_id")))
    by_name = client.tools.create(source_code=_source(unique("by_name")))
    tool_cleanup.extend([by_id.id, by_name.id])

    agent = make_agent(tool_ids=[by_id.id], tools=[by_name.name])
    names = [t.name for t in agent.tools]
    assert by_id.name in names and by_name.name in names


def test_deleting_an_attached_tool_removes_it_from_the_agent(client, make_agent, unique):
    tool = client.tools.create(source_code=_source(unique("gone")))
    agent = make_agent(tool_ids=[tool.id])

    client.tools.delete(tool_id=tool.id)
    assert tool.name not in [t.name for t in client.agents.retrieve(agent_id=agent.id).tools]
